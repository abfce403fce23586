"""WTForms classes shared by the portal's pages, and the accounts' email rule as a validator."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError


class AccountEmail:
    """The one email rule of staff accounts (portal.accounts.check_email), on a form field; the
    field's data becomes the normalized address."""

    def __call__(self, form, field):
        from portal.accounts import AccountError, check_email

        try:
            field.data = check_email(field.data)
        except AccountError:
            raise ValidationError(field.gettext("Invalid email address.")) from None


class LoginForm(FlaskForm):
    """Staff login."""

    email = StringField("Email", validators=[DataRequired(), Length(max=254), AccountEmail()])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Remember me")
