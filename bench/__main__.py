"""`make bench`: run every benchmark under bench/ and print its table."""

from bench import imports, startup

if __name__ == "__main__":
    startup.main()
    print()
    imports.main()
