"""WTForms of the writers' editor, the workflow buttons and account management."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from portal.accounts import MAX_PASSWORD, MIN_PASSWORD
from portal.content import MAX_BODY
from portal.forms import AccountEmail
from portal.models import ROLES


class EditorForm(FlaskForm):
    """Create or edit an article. Rules live in the editor service, which names the field at fault."""

    title = StringField("Title", validators=[Length(max=300)])
    slug = StringField("Slug", validators=[Length(max=160)],
                       description="Part of the address; made from the title when left empty.")
    locale = SelectField("Language", validate_choice=False)
    category = StringField("Category", validators=[Length(max=80)])
    tags = StringField("Tags", validators=[Length(max=500)], description="Separated by commas.")
    concept = StringField("Concept", validators=[Length(max=160)],
                          description="Articles that share a concept are translations of one another.")
    source_slug = SelectField("Translation of", validate_choice=False)
    summary = TextAreaField("Summary", validators=[Length(max=2000)])
    body = TextAreaField("Body (Markdown)", validators=[Length(max=MAX_BODY)])
    note = StringField("What changed", validators=[Length(max=300)])
    version = HiddenField()


class StatusForm(FlaskForm):
    """One workflow step (the pressed button names it), tied to the version the writer saw."""

    version = HiddenField(validators=[DataRequired()])
    note = StringField("Note", validators=[Optional(), Length(max=300)])


class VersionForm(FlaskForm):
    """A bare POST tied to the article version the writer saw (restore)."""

    version = HiddenField(validators=[DataRequired()])


class NewUserForm(FlaskForm):
    """An admin creates a staff account."""

    email = StringField("Email", validators=[DataRequired(), Length(max=254), AccountEmail()])
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", choices=list(ROLES))
    password = PasswordField("Password", validators=[Optional(), Length(min=MIN_PASSWORD, max=MAX_PASSWORD)],
                             description="Left empty, a password is generated and shown once.")


class RoleForm(FlaskForm):
    """An admin changes an account's role."""

    role = SelectField("Role", choices=list(ROLES))


class PasswordChangeForm(FlaskForm):
    """A staff member changes their own password."""

    current = PasswordField("Current password", validators=[DataRequired(), Length(max=200)])
    new = PasswordField("New password", validators=[DataRequired(), Length(min=MIN_PASSWORD, max=MAX_PASSWORD)])
    confirm = PasswordField("Repeat the new password",
                            validators=[DataRequired(), Length(max=MAX_PASSWORD),
                                        EqualTo("new", message="The two passwords differ.")])
