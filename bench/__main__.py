"""`make bench`: run every benchmark under bench/ and print its table."""

from bench import startup

if __name__ == "__main__":
    startup.main()
