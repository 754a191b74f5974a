"""Browse and play HomeSec clips in Home Assistant's media browser.

Tree: HomeSec -> camera -> day -> clips. Every level asks the engine only for what it shows
(one page of clips, or per-day counts with page_size=1), so a camera with thousands of clips
browses as fast as one with ten. Playback and thumbnails use signed, expiring URLs of the
integration's media view.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Final

from homeassistant.components.media_player.const import MediaClass, MediaType
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from .api import HomeSecClient, HomeSecError
from .const import DOMAIN
from .coordinator import HomeSecConfigEntry, camera_device_identifier
from .generated.api_models import Clip, ClipQuery
from .media_files import MediaFiles, MediaTooLarge
from .views import MEDIA_KINDS, PLAYBACK_URL_TTL, MediaKind, async_sign_url, media_path

DAYS_PER_PAGE: Final = 14
CLIPS_PER_PAGE: Final = 50
MIME_MP4: Final = "video/mp4"
MIME_TYPES: Final[dict[MediaKind, str]] = {"clip": MIME_MP4, "snapshot": "image/jpeg"}


async def async_get_media_source(hass: HomeAssistant) -> HomeSecMediaSource:
    """Set up the HomeSec media source."""
    return HomeSecMediaSource(hass)


def _iso(moment: datetime) -> str:
    return dt_util.as_utc(moment).isoformat().replace("+00:00", "Z")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A calendar day in HA's time zone, as [start, end) instants."""
    zone = dt_util.get_default_time_zone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


class HomeSecMediaSource(MediaSource):
    """Clips by camera and day.

    Identifiers: `entry/camera`, `entry/camera/days/N` (older days, page N),
    `entry/camera/day/YYYY-MM-DD/P` (page P of a day's clips), `entry/clip/ID` (playable),
    `entry/snapshot/ID` (the clip's snapshot; resolvable, e.g. as an ai_task attachment);
    `clip/ID` and `snapshot/ID` resolve in the one HomeSec entry (the engine, which does not
    know the entry id, attaches snapshots so).
    """

    name = "HomeSec"

    def __init__(self, hass: HomeAssistant) -> None:
        """Initialize the media source."""
        super().__init__(DOMAIN)
        self.hass = hass

    # -- resolve ---------------------------------------------------------------------------

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """A clip or its snapshot -> a signed, expiring URL of the media view, and a local
        file (for ai_task attachments) unless the file is too large to copy."""
        parts = item.identifier.split("/")
        if len(parts) == 2:  # `kind/ID`: the one HomeSec entry (the engine's own links)
            parts = [self._only_entry_id(), *parts]
        if len(parts) != 3 or parts[1] not in MEDIA_KINDS or not parts[2]:
            raise Unresolvable(f"not a HomeSec clip or snapshot: {item.identifier}")
        try:
            entry = self._entry(parts[0])
        except BrowseError as err:
            raise Unresolvable(str(err)) from err
        kind = parts[1]
        url = async_sign_url(
            self.hass, media_path(entry.entry_id, parts[2], kind), PLAYBACK_URL_TTL
        )
        files = MediaFiles(self.hass, entry.runtime_data.client,
                           Path(self.hass.config.cache_path(DOMAIN, "media")))
        try:
            local = await files.local_path(parts[2], kind)
        except MediaTooLarge:
            local = None
        except (ValueError, HomeSecError) as err:
            raise Unresolvable(f"HomeSec {kind} {parts[2]}: {err}") from err
        return PlayMedia(url, MIME_TYPES[kind], path=local)

    # -- browse ----------------------------------------------------------------------------

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """Browse one level of the tree."""
        if not item.identifier:
            return self._root()
        parts = item.identifier.split("/")
        entry = self._entry(parts[0])
        client = entry.runtime_data.client
        try:
            if len(parts) == 2:
                return await self._days(entry, client, parts[1], 0)
            if len(parts) == 4 and parts[2] == "days" and parts[3].isdigit():
                return await self._days(entry, client, parts[1], int(parts[3]))
            if len(parts) == 5 and parts[2] == "day" and parts[4].isdigit():
                day = date.fromisoformat(parts[3])
                return await self._clips(entry, client, parts[1], day, max(1, int(parts[4])))
        except ValueError as err:
            raise BrowseError(f"unknown HomeSec item: {item.identifier}") from err
        except HomeSecError as err:
            raise BrowseError(f"the HomeSec engine did not answer: {err}") from err
        raise BrowseError(f"unknown HomeSec item: {item.identifier}")

    def _only_entry_id(self) -> str:
        entries = self.hass.config_entries.async_loaded_entries(DOMAIN)
        if not entries:
            raise Unresolvable("HomeSec is not loaded")
        return str(entries[0].entry_id)

    def _entry(self, entry_id: str) -> HomeSecConfigEntry:
        for entry in self.hass.config_entries.async_loaded_entries(DOMAIN):
            if entry.entry_id == entry_id:
                return entry
        raise BrowseError("HomeSec is not loaded")

    def _camera_title(self, entry: HomeSecConfigEntry, camera: str) -> str:
        """The camera's device name as the user sees it (renamed or not); else its name."""
        wanted = camera_device_identifier(entry.entry_id, camera)
        registry = dr.async_get(self.hass)
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            if wanted in device.identifiers:
                return device.name_by_user or device.name or camera
        return camera

    def _root(self) -> BrowseMediaSource:
        children = [
            _folder(f"{entry.entry_id}/{camera['name']}", self._camera_title(entry, camera["name"]),
                    MediaClass.DIRECTORY)
            for entry in self.hass.config_entries.async_loaded_entries(DOMAIN)
            if entry.runtime_data.coordinator.data
            for camera in sorted(
                entry.runtime_data.coordinator.data["cameras"], key=lambda c: c["name"]
            )
        ]
        root = _folder("", self.name or DOMAIN, MediaClass.APP)
        root.children = children
        root.children_media_class = MediaClass.DIRECTORY
        return root

    async def _days(
        self, entry: HomeSecConfigEntry, client: HomeSecClient, camera: str, page: int
    ) -> BrowseMediaSource:
        """Days with clips, newest first, DAYS_PER_PAGE calendar days per page."""
        today = dt_util.now().date()
        newest = today - timedelta(days=page * DAYS_PER_PAGE)
        days = [newest - timedelta(days=n) for n in range(DAYS_PER_PAGE)]
        oldest_start = day_bounds(days[-1])[0]

        async def count(since: datetime | None, until: datetime) -> int:
            query: ClipQuery = {"camera": camera, "until": _iso(until), "page_size": 1}
            if since is not None:
                query["since"] = _iso(since)
            return (await client.list_clips(query))["total"]

        totals = await asyncio.gather(
            *(count(*day_bounds(day)) for day in days), count(None, oldest_start)
        )
        folder_id = f"{entry.entry_id}/{camera}"
        node = _folder(
            folder_id if page == 0 else f"{folder_id}/days/{page}",
            self._camera_title(entry, camera), MediaClass.DIRECTORY,
        )
        node.children = [
            _folder(f"{folder_id}/day/{day.isoformat()}/1", f"{day.isoformat()} ({total})",
                    MediaClass.DIRECTORY)
            for day, total in zip(days, totals[:-1], strict=True)
            if total
        ]
        if totals[-1]:
            node.children.append(
                _folder(f"{folder_id}/days/{page + 1}", "Older days", MediaClass.DIRECTORY)
            )
        node.children_media_class = MediaClass.DIRECTORY
        return node

    async def _clips(
        self,
        entry: HomeSecConfigEntry,
        client: HomeSecClient,
        camera: str,
        day: date,
        page: int,
    ) -> BrowseMediaSource:
        """One page of a day's clips, newest first, with a "more" entry when there are more."""
        since, until = day_bounds(day)
        result = await client.list_clips(
            {
                "camera": camera,
                "since": _iso(since),
                "until": _iso(until),
                "page": page,
                "page_size": CLIPS_PER_PAGE,
            }
        )
        base = f"{entry.entry_id}/{camera}/day/{day.isoformat()}"
        node = _folder(f"{base}/{page}", f"{self._camera_title(entry, camera)} {day.isoformat()}",
                       MediaClass.DIRECTORY)
        node.children = [self._clip(entry, clip) for clip in result["clips"]]
        if result["page"] * result["page_size"] < result["total"]:
            node.children.append(
                _folder(f"{base}/{page + 1}", "More clips", MediaClass.DIRECTORY)
            )
        node.children_media_class = MediaClass.VIDEO
        return node

    def _clip(self, entry: HomeSecConfigEntry, clip: Clip) -> BrowseMediaSource:
        created = dt_util.parse_datetime(clip["created_at"])
        when = dt_util.as_local(created).strftime("%H:%M:%S") if created else clip["id"]
        # Short enough for a media-browser card: time, what happened and its tier (alert:
        # notified; detection: recorded, not notified); a clip still being recorded says so.
        # The risk is in the clip's sensors and notifications.
        tier = clip.get("tier")
        details = [d for d in (clip.get("activity_type") or _live_activity(clip),
                               f"({tier})" if tier else None,
                               "· recording" if _recording(clip) else None) if d]
        thumbnail = async_sign_url(
            self.hass, media_path(entry.entry_id, clip["id"], "snapshot"), PLAYBACK_URL_TTL
        )
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=f"{entry.entry_id}/clip/{clip['id']}",
            media_class=MediaClass.VIDEO,
            media_content_type=MIME_MP4,
            title=" ".join([when, *details]),
            can_play=True,
            can_expand=False,
            thumbnail=thumbnail,
        )


def _recording(clip: Clip) -> bool:
    """The clip's event is still going on (its video is not stored yet)."""
    event = clip.get("event")
    return bool(event and event.get("state") == "active")


def _live_activity(clip: Clip) -> str | None:
    """What the live event saw so far, while the clip is not judged yet."""
    event = clip.get("event")
    return str(event["activity_type"]) if event and event.get("activity_type") else None


def _folder(identifier: str, title: str, media_class: MediaClass) -> BrowseMediaSource:
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=identifier or None,
        media_class=media_class,
        media_content_type=MediaType.VIDEO if media_class is MediaClass.VIDEO else "",
        title=title,
        can_play=False,
        can_expand=True,
    )
