"""/api/server/*: formats from the registry, plugins, share."""

from __future__ import annotations

from tests.functional._api_world import api_fixture, sdk_parse  # noqa: F401 - fixture


def test_formats_list_only_implemented_formats(api):
    from cvat_serverless.formats import registry

    api.user("alice")
    answer = api.get("/api/server/annotation/formats", "alice")
    assert answer.status == 200
    sdk_parse("DatasetFormats", answer.body)
    exporters = {f["name"] for f in answer.body["exporters"]}
    importers = {f["name"] for f in answer.body["importers"]}
    assert exporters == {s.display_name for s in registry.list_exporters()}
    assert importers == {s.display_name for s in registry.list_importers()}
    assert "COCO 1.0" in exporters and "CVAT 1.1" in importers
    assert api.get("/api/server/annotation/formats").status == 401


def test_plugins_and_share(api):
    api.user("alice")
    plugins = api.get("/api/server/plugins")
    assert plugins.status == 200
    sdk_parse("Plugins", plugins.body)
    share = api.get("/api/server/share", "alice")
    assert share.status == 200 and share.body == []
    assert api.get("/api/server/share").status == 401


def test_share_lists_the_bucket_share_prefix_one_folder_at_a_time(api):
    api.user("alice")
    blobs = api.container.blobs
    for key in ("share/clips/a.mp4", "share/clips/night/b.mp4", "share/img/1.jpg", "share/readme.txt",
                "share/data.zip", "uploads/not-shared.jpg"):
        blobs.put(key, b"x")
    top = api.get("/api/server/share", "alice")
    assert top.status == 200
    assert top.body == [
        {"name": "clips", "type": "DIR", "mime_type": "DIR"},
        {"name": "img", "type": "DIR", "mime_type": "DIR"},
        {"name": "data.zip", "type": "REG", "mime_type": "archive"},
        {"name": "readme.txt", "type": "REG", "mime_type": "unknown"},
    ]
    for entry in top.body:
        sdk_parse("FileInfo", entry)
    clips = api.get("/api/server/share", "alice", query={"directory": "/clips/"})
    assert [(e["name"], e["mime_type"]) for e in clips.body] == [("night", "DIR"), ("a.mp4", "video")]
    found = api.get("/api/server/share", "alice", query={"directory": "img", "search": "1.J"})
    assert found.body == [{"name": "1.jpg", "type": "REG", "mime_type": "image"}]
    assert api.get("/api/server/share", "alice", query={"directory": "/nope"}).status == 404
    assert api.get("/api/server/share", "alice", query={"directory": "/../uploads"}).status == 400


def test_about_is_anonymous_and_versioned_for_the_sdk(api):
    answer = api.get("/api/server/about")
    assert answer.status == 200
    about = sdk_parse("About", answer.body)
    assert about.version.startswith("2.80")
