"""The code examples of the seed talk's "Representing data" sections, run unchanged but for
the import (``docarray`` -> ``docstack``)."""

from __future__ import annotations

import numpy as np
import pytest


def test_banner_doc_attributes():
    from docstack import BaseDoc
    from docstack.typing import ImageUrl

    class BannerDoc(BaseDoc):
        image_url: ImageUrl
        title: str
        description: str

    banner = BannerDoc(
        image_url="https://example.com/image.png",
        title="Hello World",
        description="This is a banner",
    )
    assert banner.image_url == "https://example.com/image.png"
    assert banner.title == "Hello World"
    assert banner.description == "This is a banner"


def test_youtube_video_doc_nesting():
    from docstack import BaseDoc
    from docstack.typing import ImageBytes, ImageUrl, VideoBytes, VideoUrl

    class ImageDoc(BaseDoc):
        url: ImageUrl
        bytes: ImageBytes = None  # bytes are not always loaded in memory, so we make it optional

    class VideoDoc(BaseDoc):
        url: VideoUrl
        bytes: VideoBytes = None  # bytes are not always loaded in memory, so we make it optional

    class YouTubeVideoDoc(BaseDoc):
        title: str
        description: str
        thumbnail: ImageDoc
        video: VideoDoc

    doc = YouTubeVideoDoc(
        title="Year in Review: 2021 in Graphic Design",
        description="119K views",
        thumbnail=ImageDoc(url="http://example.ai/images/1024"),
        video=VideoDoc(url="http://example.ai/videos/1024"),
    )
    assert doc.thumbnail.url == "http://example.ai/images/1024"
    assert doc.video.bytes is None
    # nested data is validated from plain dicts too
    again = YouTubeVideoDoc.model_validate_json(doc.model_dump_json())
    assert again == doc


def _banner_docs():
    from docstack import BaseDoc, DocList
    from docstack.typing import ImageUrl

    class BannerDoc(BaseDoc):
        image: ImageUrl
        title: str
        description: str

    banner1 = BannerDoc(
        image="https://example.com/image1.png",
        title="Hello World",
        description="This is a banner",
    )
    banner2 = BannerDoc(
        image="https://example.com/image2.png",
        title="Bye Bye World",
        description="This is (distopic) banner",
    )
    docs = DocList[BannerDoc]([banner1, banner2])
    return BannerDoc, banner1, banner2, docs


def test_doc_list_example(capsys):
    _, banner1, banner2, docs = _banner_docs()
    docs.summary()
    out = capsys.readouterr().out
    assert "DocList[BannerDoc]" in out
    assert "2" in out
    for field in ("image: ImageUrl", "title: str", "description: str"):
        assert field in out

    print(docs[0])
    assert "https://example.com/image1.png" in capsys.readouterr().out
    for doc in docs:
        print(doc)
    printed = capsys.readouterr().out
    assert "Hello World" in printed and "Bye Bye World" in printed

    print(banner1.image)
    assert capsys.readouterr().out.strip() == "https://example.com/image1.png"
    print(docs.image)
    assert capsys.readouterr().out.strip() == (
        "['https://example.com/image1.png', 'https://example.com/image2.png']"
    )


def test_nested_attribute_access_at_array_level():
    from docstack import BaseDoc, DocList

    BannerDoc, banner1, banner2, _ = _banner_docs()

    class PageDoc(BaseDoc):
        banner: BannerDoc

    page1 = PageDoc(banner=banner1)
    page2 = PageDoc(banner=banner2)
    docs = DocList[PageDoc]([page1, page2])
    assert docs.banner.image == [
        "https://example.com/image1.png",
        "https://example.com/image2.png",
    ]
    assert page1.banner.image == "https://example.com/image1.png"


def test_untyped_doc_list_and_strong_typing():
    from docstack import BaseDoc, DocList
    from docstack.typing import AudioUrl, ImageUrl

    class ImageDoc(BaseDoc):
        url: ImageUrl

    class AudioDoc(BaseDoc):
        url: AudioUrl

    docs = DocList(
        [
            ImageDoc(url="https://example.com/image1.png"),
            AudioDoc(url="https://example.com/audio1.mp3"),
        ]
    )
    assert [type(d).__name__ for d in docs] == ["ImageDoc", "AudioDoc"]

    with pytest.raises(ValueError, match="AudioDoc") as info:
        DocList[ImageDoc](
            [
                ImageDoc(url="https://example.com/image1.png"),
                AudioDoc(url="https://example.com/audio1.mp3"),
            ]
        )
    assert "ImageDoc" in str(info.value)


def test_doc_list_vs_doc_vec_embedding():
    from docstack import BaseDoc, DocList, DocVec
    from docstack.typing import NdArray

    class ImageDoc(BaseDoc):
        image: NdArray[3, 224, 224] = None

    seen = []

    def embed(image: NdArray[batch_size, 3, 224, 224]):  # noqa: F821
        seen.append(image.shape)

    docs = DocList[ImageDoc]([ImageDoc(image=np.random.rand(3, 224, 224)) for _ in range(10)])
    embed(np.stack(docs.image))

    docs = DocVec[ImageDoc]([ImageDoc(image=np.random.rand(3, 224, 224)) for _ in range(10)])
    embed(docs.image)
    assert seen == [(10, 3, 224, 224), (10, 3, 224, 224)]


def test_doc_vec_view():
    from docstack import BaseDoc, DocList, DocVec
    from docstack.typing import NdArray

    class ImageDoc(BaseDoc):
        image: NdArray[3, 224, 224] = None

    docs = DocVec[ImageDoc]([ImageDoc(image=np.random.rand(3, 224, 224)) for _ in range(10)])
    my_doc = docs[0]
    assert my_doc.is_view()  # True

    docs = DocList[ImageDoc]([ImageDoc(image=np.random.rand(3, 224, 224)) for _ in range(10)])
    my_doc = docs[0]
    assert not my_doc.is_view()  # False
