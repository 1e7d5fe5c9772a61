"""HTML for the tabs: view functions turn result objects into HTML (or Markdown, or table data), one module a tab.

A view takes a backend result and plain values (names, flags) and returns a string; it never runs
a model, reads the store or touches a widget. `elements` holds the pieces every view uses.
"""
