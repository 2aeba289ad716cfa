from xweb_emulator.cli import main

main()
