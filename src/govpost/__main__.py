"""``python -m govpost``: the ``govpost`` command (:mod:`govpost.cli`).

.. versionadded:: 0.2.0
"""

from govpost.cli import main

if __name__ == "__main__":
    main(prog_name="govpost")
