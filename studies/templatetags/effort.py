from django import template

from studies.effort import duration

register = template.Library()

register.filter("duration", duration)
