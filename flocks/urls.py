"""URLs of the flock pages."""

from django.urls import path

from . import key_views, picker_views, views

urlpatterns = [
    path("", views.flock_list, name="flock_list"),
    path("add/", views.flock_add, name="flock_add"),
    path("search.json", picker_views.flock_search, name="flock_search"),
    path("<flock_id:flock_id>/", views.flock_detail, name="flock_detail"),
    path("<flock_id:flock_id>/rename/", views.flock_rename, name="flock_rename"),
    path("<flock_id:flock_id>/note/", views.flock_note, name="flock_note"),
    path("<flock_id:flock_id>/members/", views.flock_member_add, name="flock_member_add"),
    path(
        "<flock_id:flock_id>/members/<id:user_pk>/remove/",
        views.flock_member_remove,
        name="flock_member_remove",
    ),
    path("<flock_id:flock_id>/people.json", picker_views.flock_people, name="flock_people"),
    path("<flock_id:flock_id>/delete/", views.flock_delete, name="flock_delete"),
    path("<flock_id:flock_id>/api-keys/", key_views.api_keys_page, name="flock_api_keys"),
]
