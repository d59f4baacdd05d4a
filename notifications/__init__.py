"""In-app notifications: what just happened that concerns one person (assigned to you, an SLA
about to breach, a handoff answered, a renewal opened, a reply received), an unread count in
the top bar, and, for the kinds each person chooses, an email.

``notifications`` sits just above ``team`` so every app with news can call
``notifications.services.notify``; it knows nothing of the apps above it: a notification
carries its text and the path to open, written by the app that had the news.
"""
