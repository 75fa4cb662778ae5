try:
    from .cli import main
except KeyboardInterrupt:     # Ctrl-C while still importing (serve's worker, a slow start)
    raise SystemExit(130) from None

main()
