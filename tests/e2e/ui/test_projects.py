"""Projects in Chromium against the embedded runtime: create one with labels through the dialog
(a select attribute, a skeleton), find it, rename it, add a label, assign it, delete it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.ui.conftest import sign_in


def test_a_project_is_created_with_labels_edited_and_deleted(page, admin, runtime):
    sign_in(page, *admin)
    page.goto("/projects")
    page.get_by_role("link", name="Create a project").click()
    dialog = page.get_by_role("dialog", name="Create a project")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name", exact=True).fill("e2e zoo")

    dialog.get_by_role("button", name="Add label").click()
    dialog.get_by_label("Name of label 1").fill("car")
    dialog.get_by_role("button", name="Add attribute to car").click()
    expect(dialog.get_by_text("An attribute needs a name.")).to_be_visible()  # validation shown
    dialog.get_by_label("Name of attribute 1 of car").fill("color")
    dialog.get_by_label("Input type of color of car").select_option("select")
    dialog.get_by_label("Values of color of car").fill("red, blue")
    dialog.get_by_label("Default value of color of car").select_option("blue")
    expect(dialog.locator(".field-error")).to_have_count(0)

    dialog.get_by_role("button", name="Add label").click()
    dialog.get_by_label("Name of label 2").fill("person")
    dialog.get_by_label("Type of person").select_option("skeleton")
    dialog.get_by_label("Name of point 1 of person").fill("head")
    dialog.get_by_label("Name of point 2 of person").fill("foot")
    expect(dialog.get_by_role("img", name="Skeleton person: 2 points")).to_be_visible()

    dialog.get_by_role("button", name="Raw").click()  # the same list as JSON
    raw = dialog.get_by_label("Labels as JSON")
    expect(raw).to_have_value(re.compile(r'data-label-name=\\"foot\\"'))
    original = raw.input_value()
    raw.fill("[{")
    expect(dialog.get_by_role("alert")).to_contain_text("Not JSON")
    raw.fill(original.replace('"default_value": "blue"', '"default_value": "red"'))
    expect(dialog.get_by_role("alert")).to_have_count(0)
    dialog.get_by_role("button", name="Constructor").click()
    expect(dialog.get_by_label("Name of point 2 of person")).to_have_value("foot")
    expect(dialog.get_by_label("Values of color of car")).to_have_value("red, blue")
    expect(dialog.get_by_label("Default value of color of car")).to_have_value("red")
    dialog.get_by_label("Default value of color of car").select_option("blue")
    page.shots("create-dialog")
    dialog.get_by_role("button", name="Create", exact=True).click()

    expect(page).to_have_url(re.compile(r"/projects/\d+$"))
    project_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_role("heading", name="e2e zoo")).to_be_visible()
    expect(page.get_by_role("list", name="Labels").get_by_role("listitem")).to_have_count(2)
    expect(page.get_by_text("This project has no tasks yet.")).to_be_visible()
    expect(page.get_by_role("link", name="Create a task")).to_have_attribute(
        "href", f"/tasks/create?project_id={project_id}")
    page.shots("project")

    page.goto("/projects")
    expect(page.get_by_role("link", name="e2e zoo")).to_be_visible()
    page.shots("projects")
    page.get_by_role("link", name="e2e zoo").click()

    page.get_by_role("button", name="Rename the project").click()
    page.get_by_label("Project name").fill("e2e zoo renamed")
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_role("heading", name="e2e zoo renamed")).to_be_visible()

    page.get_by_role("button", name="Change project assignee").click()
    page.get_by_label("Search users for project assignee").fill(admin[0])
    page.get_by_role("list", name="Matching users").get_by_role("button", name=admin[0]).click()
    expect(page.get_by_role("button", name="Change project assignee")).to_be_visible()
    assert page.request.get(f"/api/projects/{project_id}").json()["assignee"]["username"] == admin[0]

    page.get_by_role("button", name="Edit labels").click()
    expect(page.get_by_label("Name of label 2")).to_have_value("person")
    page.get_by_role("button", name="Add label").click()
    page.get_by_label("Name of label 3").fill("tree")
    page.get_by_label("Type of tree").select_option("polygon")
    page.shots("labels-editing")
    page.get_by_role("button", name="Save labels").click()
    expect(page.get_by_role("list", name="Labels").get_by_role("listitem")).to_have_count(3)
    expect(page.get_by_role("heading", name="Labels (3)")).to_be_visible()

    response = page.request.get(f"/api/labels?project_id={project_id}")
    assert response.status == 200, response.text()
    labels = {label["name"]: label for label in response.json()["results"]}
    assert set(labels) == {"car", "person", "tree"}
    (color,) = labels["car"]["attributes"]
    assert (color["name"], color["input_type"], color["values"], color["default_value"]) == \
        ("color", "select", ["red", "blue"], "blue")
    person = labels["person"]
    assert person["type"] == "skeleton"
    points = {sub["name"]: sub["id"] for sub in person["sublabels"]}
    assert set(points) == {"head", "foot"}
    for point_id in points.values():
        assert f'data-label-id="{point_id}"' in person["svg"]
    assert 'data-type="edge"' in person["svg"]
    assert labels["tree"]["type"] == "polygon"
    page.shots("project-edited")

    page.get_by_role("button", name="Delete project").click()
    confirm = page.get_by_role("dialog", name="Delete the project")
    expect(confirm).to_contain_text("e2e zoo renamed")
    page.shots("delete-confirm")
    confirm.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile(r"/projects$"))
    expect(page.get_by_role("link", name="e2e zoo renamed")).to_have_count(0)
    assert page.request.get(f"/api/projects/{project_id}").status == 404


def test_a_missing_project_shows_the_api_message(page, admin, runtime):
    sign_in(page, *admin)
    page.goto("/projects/987654")
    expect(page.get_by_role("alert")).to_be_visible()
    page.shots("missing-project")
