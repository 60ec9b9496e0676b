from okenv.cli import main

main()
