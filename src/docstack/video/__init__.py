"""Video search ("video grep"): cut videos into moments, embed them, find the moments a
phrase describes.

- :func:`iter_frames` streams a video's frames with their timestamps (PyAV, constant memory);
- :func:`segment_video` cuts a video into :class:`VideoMomentDoc` documents, one per shot
  (colour-histogram cut detection) or per fixed interval, each with a small key frame;
- :func:`embed_moments` fills their embeddings from the key frames with an image
  :class:`~docstack.embed.Encoder` (CLIP-like models embed text and images in one space);
- :func:`find_moments` searches any ``docstack.index`` backend and merges adjacent hits of a
  video into one :class:`Moment`.

PyAV is an optional dependency: ``pip install "docstack[video]"``.

Example
-------
>>> import numpy as np
>>> from docstack.typing import VideoNdArray
>>> from docstack.video import segment_video
>>> frames = np.zeros((10, 16, 16, 3), np.uint8)
>>> frames[5:] = 255  # a cut from black to white at 0.5 s
>>> data = VideoNdArray.validate(frames).to_bytes(video_frame_rate=10)
>>> [(m.start, m.end) for m in segment_video(data)]
[(0.0, 0.5), (0.5, 1.0)]
"""

from docstack.video._frames import Frame, VideoSource, iter_frames
from docstack.video._search import Moment, embed_moments, find_moments, merge_hits
from docstack.video._segment import (
    DEFAULT_SHOT_THRESHOLD,
    VideoMomentDoc,
    colour_histograms,
    histogram_distances,
    segment_video,
    video_id_of,
)

__all__ = [
    "DEFAULT_SHOT_THRESHOLD",
    "Frame",
    "Moment",
    "VideoMomentDoc",
    "VideoSource",
    "colour_histograms",
    "embed_moments",
    "find_moments",
    "histogram_distances",
    "iter_frames",
    "merge_hits",
    "segment_video",
    "video_id_of",
]
