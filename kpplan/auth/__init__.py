"""Sign-in, sign-out, passwords and the throttling of failed sign-ins."""
