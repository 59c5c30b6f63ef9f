"""Delivery channels: SMTP email, signed webhook, Slack, WeCom, DingTalk, Feishu (plugins)."""
