"""WTForms classes of the ticket pages (customers and agents).

Labels are English source text; templates pass them through _() when rendering."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from ticketing import service
from ticketing.models import CATEGORIES, GROUPS, PRIORITIES, STATUSES

# A version beyond the database's integers is no version of anything: a form error, not a 500.
VERSION = NumberRange(min=0, max=2**31 - 1, message="Reload the page: this version is not one of the ticket's.")
CATEGORY_LABELS = {"general": "General question", "account": "Account and access", "billing": "Billing",
                   "technical": "Technical problem", "feedback": "Suggestion or feedback"}


class TicketForm(FlaskForm):
    """The customer's "contact support" form."""

    email = StringField("Email", validators=[DataRequired("Enter your email address."),
                                             Email("Enter a valid email address, like name@example.com."),
                                             Length(max=254)])
    name = StringField("Your name (optional)", validators=[Optional(), Length(max=service.NAME_MAX)])
    category = SelectField("Topic", choices=[SelectChoice(c, CATEGORY_LABELS[c]) for c in CATEGORIES],
                           default="general")
    subject = StringField("Subject", validators=[
        DataRequired("Give your request a subject."),
        Length(min=service.SUBJECT_MIN, max=service.SUBJECT_MAX,
               message=f"The subject needs between {service.SUBJECT_MIN} and {service.SUBJECT_MAX} characters.")])
    body = TextAreaField("Describe the problem", validators=[
        DataRequired("Describe the problem."),
        Length(min=service.BODY_MIN, max=service.BODY_MAX,
               message=f"The description needs between {service.BODY_MIN} and {service.BODY_MAX} characters.")])
    q = HiddenField(validators=[Length(max=200)])
    article = HiddenField(validators=[Length(max=160)])


class CustomerReplyForm(FlaskForm):
    """The customer's reply on the status page."""

    body = TextAreaField("Your reply", validators=[DataRequired("Write a message first."),
                                                   Length(max=service.BODY_MAX)])


class RatingForm(FlaskForm):
    """CSAT and NPS, once the ticket is solved."""

    csat = RadioField("How satisfied are you with our help?", choices=[SelectChoice(str(i)) for i in range(1, 6)],
                      validators=[Optional()])
    nps = RadioField("How likely are you to recommend us to a friend or colleague?",
                     choices=[SelectChoice(str(i)) for i in range(0, 11)], validators=[Optional()])


class AgentReplyForm(FlaskForm):
    """An agent's reply or internal note, with the version the agent saw."""

    body = TextAreaField("Message", validators=[DataRequired("Write a message first."),
                                                Length(max=service.REPLY_MAX)])
    internal = RadioField("Kind", choices=[SelectChoice("0", "Public reply"), SelectChoice("1", "Internal note")],
                          default="0")
    status = SelectField("Then set status",
                         choices=[SelectChoice("", "(unchanged)")] + [SelectChoice(s) for s in STATUSES if s != "new"],
                         default="", validators=[Optional()])
    version = IntegerField(validators=[InputRequired(), VERSION])


class TicketUpdateForm(FlaskForm):
    """Status, priority, group and assignee changes."""

    status = SelectField("Status", choices=[SelectChoice(s) for s in STATUSES])
    priority = SelectField("Priority", choices=[SelectChoice(p) for p in PRIORITIES])
    group = SelectField("Group", choices=[SelectChoice(g) for g in GROUPS])
    assignee = SelectField("Assignee", choices=[], validate_choice=False)
    version = IntegerField(validators=[InputRequired(), VERSION])


class EscalateForm(FlaskForm):
    """Move up a tier with a reason."""

    group = SelectField("To", choices=[SelectChoice(g) for g in GROUPS if g != "L1"])
    reason = TextAreaField("Reason", validators=[DataRequired("Say why."), Length(min=service.REASON_MIN, max=1000)])
    version = IntegerField(validators=[InputRequired(), VERSION])


class VersionForm(FlaskForm):
    """A bare action (claim) that carries only the version seen."""

    version = IntegerField(validators=[InputRequired(), VERSION])


class CannedForm(FlaskForm):
    """A canned response."""

    title = StringField("Title", validators=[DataRequired(), Length(max=120)])
    locale = SelectField("Language", choices=[SelectChoice("", "any")] + [SelectChoice(c) for c in ("it", "ro", "en")],
                         default="")
    body = TextAreaField("Text", validators=[DataRequired(), Length(max=10_000)])


class RangeForm(FlaskForm):
    """The KPI page's period (GET form, no CSRF needed)."""

    class Meta:
        csrf = False

    start = StringField("From", validators=[Optional(), Length(max=32)])
    end = StringField("To", validators=[Optional(), Length(max=32)])
    interval = SelectField("Over time by", choices=[SelectChoice(i) for i in ("day", "week", "month")],
                           default="week")


def nps_value(raw):
    """Return an int from a radio value, or None when none was chosen (blank, or not a number)."""
    text = (raw or "").strip()
    return int(text) if text.isdigit() and len(text) <= 2 else None
