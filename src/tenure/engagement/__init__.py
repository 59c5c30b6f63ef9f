"""Playbooks, tasks and the transactional outbox of every outgoing message."""
