"""Server-rendered web UI: Jinja2 pages, HTMX updates, ECharts charts, zh-CN and en."""
