from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField("Nama pengguna", validators=[DataRequired("Nama pengguna wajib diisi."), Length(max=80)])
    password = PasswordField("Kata sandi", validators=[DataRequired("Kata sandi wajib diisi."), Length(max=200)])


class PasswordChangeForm(FlaskForm):
    current = PasswordField("Kata sandi lama", validators=[DataRequired("Kata sandi lama wajib diisi."), Length(max=200)])
    new = PasswordField("Kata sandi baru", validators=[DataRequired("Kata sandi baru wajib diisi."), Length(max=200)])
    confirm = PasswordField("Ulangi kata sandi baru", validators=[DataRequired("Ulangi kata sandi baru."), Length(max=200)])
