from django import forms

from shop.models import Customer, Order


class OrderFilterForm(forms.Form):
    # untouched: a call argument, not a view attribute; the field re-evaluates its
    # queryset (a fresh .all() copy per form) every time it renders its choices
    customer = forms.ModelChoiceField(queryset=Customer.objects.all(), required=False)
    status = forms.ChoiceField(choices=Order.STATUSES, required=False)
