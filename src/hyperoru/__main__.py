from hyperoru.cli import main

main()
