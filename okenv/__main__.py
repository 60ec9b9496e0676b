from okenv.main import main

main()
