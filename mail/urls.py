from django.urls import path

from .views import compose, emails, mailbox, templates, tracking

app_name = "mail"

urlpatterns = [
    # Public, signed: the open pixel, tracked clicks, the one-click unsubscribe.
    path("m/o/<str:token>.gif", tracking.open_pixel, name="open"),
    path("m/c/<str:token>/", tracking.click, name="click"),
    path("m/u/<str:token>/", tracking.unsubscribe, name="unsubscribe"),
    # A person's email: their mailbox, templates, the composer, the emails of a lead or contact.
    path("mail/mailbox/", mailbox.mailbox, name="mailbox"),
    path("mail/templates/", templates.template_list, name="templates"),
    path("mail/templates/new/", templates.template_new, name="template_new"),
    path("mail/templates/<int:pk>/", templates.template_edit, name="template_edit"),
    path("mail/templates/<int:pk>/delete/", templates.template_delete, name="template_delete"),
    path("mail/compose/", compose.compose, name="compose"),
    path("mail/messages/<int:pk>/cancel/", emails.cancel, name="cancel"),
    path("mail/lead/<int:pk>/emails/", emails.lead_emails, name="lead_emails"),
    path("mail/lead/<int:pk>/unsuppress/", emails.lead_unsuppress, name="lead_unsuppress"),
    path("mail/contact/<int:pk>/emails/", emails.contact_emails, name="contact_emails"),
    path("mail/contact/<int:pk>/unsuppress/", emails.contact_unsuppress, name="contact_unsuppress"),
]
