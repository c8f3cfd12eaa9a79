"""A Django project with django-termsandconditions, run in its own process: ``peer`` builds
the app's database with the app's own models, ``site`` is an app gated by the tracker's
Django middleware."""
