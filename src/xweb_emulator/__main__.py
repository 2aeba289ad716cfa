"""`python -m xweb_emulator`, and the `xweb-emulator` command (pyproject.toml's scripts)."""

import gc


def run() -> None:
    # A start makes a few hundred thousand objects that live as long as the process (modules, tables, the operation
    # table): a collector running while they are made walks them again and again, 0.1 s of CPU of serve's start.
    # cli.main turns it back on; serve once its database is ready (server.serve).
    gc.disable()
    from xweb_emulator.cli import main

    main()


if __name__ == "__main__":
    run()
