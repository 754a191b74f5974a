"""Cameras through the API: list, create, read, update, delete, conflicts and validation."""

from __future__ import annotations

from .conftest import Api, assert_error, assert_valid

NEW_CAMERA = {"name": "back_yard", "source_backend": "local_folder",
              "source_config": {"path": "/media/back_yard"}}


async def test_list_cameras_shows_config_and_health(api: Api) -> None:
    # Given the default cameras, When they are listed
    status, body, _ = await api.call("GET", "/cameras")
    # Then both appear with their settings and health
    assert status == 200
    assert_valid("CameraList", body)
    cams = {c["name"]: c for c in body["cameras"]}
    assert set(cams) == {"front_door", "garage"}
    assert cams["garage"]["enabled"] is False
    assert cams["front_door"]["healthy"] is False and cams["front_door"]["last_heartbeat"] is None


async def test_create_camera_then_read_it_applied_without_a_restart(api: Api) -> None:
    # When a camera is created
    status, body, _ = await api.call("POST", "/cameras", json_body=NEW_CAMERA)
    # Then it is 201 with the new version and the camera, applied at once (no restart)
    assert status == 201, body
    assert_valid("ChangeResult", body)
    assert body["restart_required"] is False and body["restart_fields"] == []
    assert body["config_version"] == 2
    assert body["camera"]["name"] == "back_yard" and body["camera"]["enabled"] is True
    assert body["camera"]["source_config"]["path"] == "/media/back_yard"
    status, body, _ = await api.call("GET", "/cameras/back_yard")
    assert status == 200 and body["source_backend"] == "local_folder"
    _, status_body, _ = await api.call("GET", "/status")
    assert status_body["restart_required"] is False and status_body["config_version"] == 2
    assert "back_yard" in {c["name"] for c in status_body["cameras"]}


async def test_creating_a_duplicate_camera_is_409(api: Api) -> None:
    # Given an existing camera, When one with the same name is created
    status, body, _ = await api.call("POST", "/cameras", json_body={
        **NEW_CAMERA, "name": "front_door"})
    # Then it is refused with CAMERA_EXISTS
    assert_error(status, body, 409, "CAMERA_EXISTS")


async def test_invalid_camera_names_each_bad_field(api: Api) -> None:
    # When a camera with a bad name and a bad source setting is created
    status, body, _ = await api.call("POST", "/cameras", json_body={
        "name": "Bad Name", "source_backend": "rtsp",
        "source_config": {"url": "rtsp://user:pw@cam/stream"}})
    # Then 400 names the field paths
    error = assert_error(status, body, 400, "VALIDATION_ERROR")
    paths = {e["path"] for e in error["errors"]}
    assert "name" in paths
    status, body, _ = await api.call("POST", "/cameras", json_body={
        "name": "cam", "source_backend": "rtsp",
        "source_config": {"url": "rtsp://user:pw@cam/stream"}})
    error = assert_error(status, body, 400, "VALIDATION_ERROR")
    assert any(e["path"].endswith("source_config.url") for e in error["errors"]), error


async def test_update_camera_disables_it(api: Api) -> None:
    # When a camera is disabled
    status, body, _ = await api.call("PUT", "/cameras/front_door", json_body={"enabled": False})
    # Then the change result shows it and reading it agrees
    assert status == 200, body
    assert_valid("ChangeResult", body)
    assert body["camera"]["enabled"] is False and body["restart_required"] is False
    _, cam, _ = await api.call("GET", "/cameras/front_door")
    assert cam["enabled"] is False


async def test_delete_camera_removes_it(api: Api) -> None:
    # When a camera is deleted
    status, body, _ = await api.call("DELETE", "/cameras/garage")
    # Then it is gone
    assert status == 200, body
    assert_valid("ChangeResult", body)
    status, body, _ = await api.call("GET", "/cameras/garage")
    assert_error(status, body, 404, "NOT_FOUND")


async def test_unknown_camera_is_404_and_a_bad_name_400(api: Api) -> None:
    for method, body in (("GET", None), ("PUT", {"enabled": True}), ("DELETE", None)):
        # When an unknown camera is addressed, Then 404
        status, answer, _ = await api.call(method, "/cameras/nowhere", json_body=body)
        assert_error(status, answer, 404, "NOT_FOUND")
        # When a well-formed name no camera can have is addressed, Then 404 as well
        status, answer, _ = await api.call(method, "/cameras/NOT-A-SLUG", json_body=body)
        assert_error(status, answer, 404, "NOT_FOUND")
        # When the path parameter itself is malformed, Then 400 names it
        status, answer, _ = await api.call(method, "/cameras/bad%20name", json_body=body)
        error = assert_error(status, answer, 400, "VALIDATION_ERROR")
        assert error["errors"][0]["path"] == "name"


async def test_stale_config_version_is_409_with_the_current_version(api: Api) -> None:
    # Given the config moved on to version 2
    await api.call("PUT", "/cameras/front_door", json_body={"enabled": False})
    # When changes are sent against version 1 (body field or If-Match)
    attempts = [
        ("POST", "/cameras", {**NEW_CAMERA, "config_version": 1}, {}),
        ("PUT", "/cameras/front_door", {"enabled": True, "config_version": 1}, {}),
        ("PUT", "/cameras/front_door", {"enabled": True}, {"If-Match": '"1"'}),
        ("DELETE", "/cameras/garage", {"config_version": 1}, {}),
        ("DELETE", "/cameras/garage", None, {"If-Match": "1"}),
    ]
    for method, path, body, headers in attempts:
        status, answer, _ = await api.call(method, path, json_body=body, headers=headers)
        # Then each is refused with the current version, and nothing changed
        error = assert_error(status, answer, 409, "CONFIG_VERSION_CONFLICT")
        assert error["current_version"] == 2
    _, cams, _ = await api.call("GET", "/cameras")
    assert len(cams["cameras"]) == 2
    # And the current version is accepted
    status, answer, _ = await api.call("PUT", "/cameras/front_door",
                                       json_body={"enabled": True}, headers={"If-Match": "2"})
    assert status == 200 and answer["config_version"] == 3


async def test_disagreeing_versions_and_bad_if_match_are_400(api: Api) -> None:
    for body, headers in (({"enabled": True, "config_version": 1}, {"If-Match": "2"}),
                          ({"enabled": True}, {"If-Match": "yesterday"})):
        status, answer, _ = await api.call("PUT", "/cameras/front_door", json_body=body,
                                           headers=headers)
        assert_error(status, answer, 400, "VALIDATION_ERROR")


ZONE = {"name": "path", "points": [[0, 0.6], [1, 0.6], [1, 1], [0, 1]], "classes": ["person"]}
MASK = {"name": "tree", "points": [[0, 0], [0.3, 0], [0.3, 0.4]]}


async def test_zones_and_masks_are_set_on_create_and_replaced_on_update(api: Api) -> None:
    # When a camera is created with a zone and a motion mask
    status, body, _ = await api.call("POST", "/cameras", json_body={
        **NEW_CAMERA, "zones": [ZONE], "motion_masks": [MASK]})
    # Then the camera shows both
    assert status == 201, body
    assert body["camera"]["zones"] == [{**ZONE, "points": [[0.0, 0.6], [1.0, 0.6], [1.0, 1.0],
                                                           [0.0, 1.0]]}]
    assert body["camera"]["motion_masks"][0]["name"] == "tree"
    # When only the zones are updated
    door = {"name": "door", "points": [[0.4, 0.5], [0.6, 0.5], [0.6, 1], [0.4, 1]]}
    status, body, _ = await api.call("PUT", "/cameras/back_yard", json_body={"zones": [door]})
    assert status == 200, body
    # Then the zones are replaced (classes default to every trigger class), the mask stays
    status, body, _ = await api.call("GET", "/cameras/back_yard")
    assert_valid("CameraView", body)
    assert [(z["name"], z["classes"]) for z in body["zones"]] == [("door", [])]
    assert [m["name"] for m in body["motion_masks"]] == ["tree"]
    # And an empty list removes them
    await api.call("PUT", "/cameras/back_yard", json_body={"zones": []})
    _, body, _ = await api.call("GET", "/cameras/back_yard")
    assert body["zones"] == []


async def test_a_bad_zone_is_refused_naming_the_field_and_changes_nothing(api: Api) -> None:
    # Given an existing camera
    await api.call("POST", "/cameras", json_body={**NEW_CAMERA, "zones": [ZONE]})
    # When its zone is updated to two points, and a mask to points outside the picture
    status, body, _ = await api.call("PUT", "/cameras/back_yard", json_body={
        "zones": [{"name": "path", "points": [[0, 0], [1, 1]]}],
        "motion_masks": [{"name": "tree", "points": [[0, 0], [2, 0], [0, 1]]}]})
    # Then 400 names both fields
    error = assert_error(status, body, 400, "VALIDATION_ERROR")
    paths = {e["path"] for e in error["errors"]}
    assert {"zones[0].points", "motion_masks[0].points[1][0]"} <= paths, error
    # And the camera keeps its zone
    _, body, _ = await api.call("GET", "/cameras/back_yard")
    assert [z["name"] for z in body["zones"]] == ["path"]
