"""`python -m service.spam`: build the spam model's seed artefact now (service/spam/seed.py);
the Dockerfile runs it at image build, `flask migrate` does the same before serving."""

from .seed import main

if __name__ == "__main__":
    main()
