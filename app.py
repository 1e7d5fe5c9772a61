"""seqdemo: run `python app.py` and open the address it prints."""

from seqdemo.ui import build_app, launch_options

demo = build_app()

if __name__ == "__main__":
    demo.launch(**launch_options())
