from loosen.cli import main

main()
