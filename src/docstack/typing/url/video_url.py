"""``VideoUrl``: the URL of a video."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from docstack.typing.bytes.video_bytes import VideoBytes, VideoLoadResult
from docstack.typing.url._extensions import VIDEO_EXTENSIONS
from docstack.typing.url._loading import display_media_url, media_mimetype, naming_url
from docstack.typing.url.any_url import AnyUrl

__all__ = ["VideoUrl"]


class VideoUrl(AnyUrl):
    """The URL or path of a video (MP4, MKV, WebM, MOV, AVI, ...).

    A ``str``. A URL whose extension belongs to another media type (``'.png'``, ``'.wav'``,
    ...) is rejected; URLs without extension or with an unknown one are accepted.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.typing import VideoUrl
    >>> class Clip(BaseDoc):
    ...     url: VideoUrl
    >>> Clip(url='http://example.ai/videos/1024').url
    'http://example.ai/videos/1024'
    >>> video, audio, key_frames = Clip(url='https://x.org/a.mp4').url.load()  # doctest: +SKIP
    """

    __slots__ = ()

    _docstack_extensions: ClassVar[frozenset[str] | None] = VIDEO_EXTENSIONS
    _docstack_media_majors: ClassVar[frozenset[str]] = frozenset({"video"})
    _docstack_what: ClassVar[str] = "videos"
    _docstack_mime: ClassVar[str | None] = "video"
    _docstack_bytes_type: ClassVar[type[bytes]] = VideoBytes

    def load(
        self, timeout: float | None = None, max_bytes: int | None = None, **kwargs: Any
    ) -> VideoLoadResult:
        """Fetch and decode the video to frames, audio samples and key frame indices.

        Parameters
        ----------
        timeout:
            Seconds each network operation may take.
        max_bytes:
            Largest accepted size of the encoded video.
        **kwargs:
            Passed to ``av.open`` (e.g. ``format='mp4'``).

        Returns
        -------
        VideoLoadResult
            ``(video, audio, key_frame_indices)``: uint8 frames ``(N, H, W, 3)``, float32
            audio samples (empty when silent) and int64 key frame indices.

        Raises
        ------
        LoadError
            The URL cannot be fetched or the data is not a decodable video.

        Example
        -------
        >>> from docstack.typing import VideoUrl
        >>> result = VideoUrl('https://example.com/a.mp4').load()  # doctest: +SKIP
        >>> result.video.shape  # doctest: +SKIP
        (250, 176, 320, 3)
        """
        data = cast(VideoBytes, self.load_bytes(timeout=timeout, max_bytes=max_bytes))
        with naming_url(self):
            return data.load(**kwargs)

    def display(self) -> None:
        """Play the video in a notebook (remote videos are played from their URL).

        Raises
        ------
        RuntimeError
            Not running in a notebook.

        Example
        -------
        >>> from docstack.typing import VideoUrl
        >>> VideoUrl('https://example.com/a.mp4').display()  # doctest: +SKIP
        """

        display_media_url(self, "Video", embed=True, mimetype=media_mimetype(self, "video/mp4"))
