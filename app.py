"""seqdemo: run `python app.py` and open the address it prints."""

from seqdemo.ui import build_app, launch

demo = build_app()

if __name__ == "__main__":
    launch(demo)
