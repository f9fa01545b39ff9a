from carepool.cli import main

main()
