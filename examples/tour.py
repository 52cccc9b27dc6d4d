"""A tour of representing real multimodal data with docstack (the earlier `make demo`).

Builds a nested multimodal DocList from images that ship with scikit-learn (two photos and the
8x8 handwritten digits), prints it, turns it into a column-wise DocVec, and runs an exact
vector search and a filter over it. Then it stores every digit in the embedded
``HnswDocumentIndex`` (SQLite + HNSW, in a temporary folder), searches it by vector, by filter and
by both, and reopens it from disk.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console
from sklearn.datasets import load_digits, load_sample_images

from docstack import BaseDoc, DocList, DocVec
from docstack.documents import ImageDoc, TextDoc
from docstack.index import HnswDocumentIndex
from docstack.typing import ImageTensor, NdArray
from docstack.utils import filter_docs, find

console = Console()


class Digit(BaseDoc):
    """One handwritten digit: the image, its label and a (raw pixel) embedding."""

    image: ImageTensor
    label: int
    embedding: NdArray[64]


class Photo(BaseDoc):
    """A photo with its caption."""

    image: ImageDoc
    caption: TextDoc


class Album(BaseDoc):
    """An album: a title, a cover photo and the digits filed in it."""

    title: str
    cover: Photo
    digits: DocList[Digit]


def build_albums(workdir: Path) -> DocList[Album]:
    photos = load_sample_images()
    digits = load_digits()
    albums = DocList[Album]()
    for i, (pixels, name) in enumerate(zip(photos.images, photos.filenames)):
        # save the photo as a real JPEG and reference it by URL, the way data usually arrives
        path = workdir / Path(name).name
        ImageDoc(tensor=pixels).tensor.save(path)
        cover = ImageDoc(url=str(path))
        cover.tensor = cover.url.load()  # decode the file back into an (H, W, 3) array
        cover.bytes_ = cover.tensor.to_bytes(format="PNG")
        picked = np.flatnonzero(digits.target % 2 == i)[:50]  # even digits, then odd ones
        album_digits = DocList[Digit](
            Digit(
                image=(digits.images[j] * 16).astype(np.uint8)[:, :, None],
                label=int(digits.target[j]),
                embedding=digits.data[j],
            )
            for j in picked
        )
        albums.append(
            Album(
                title=f"{'even' if i == 0 else 'odd'} digits",
                cover=Photo(image=cover, caption=TextDoc(Path(name).stem)),
                digits=album_digits,
            )
        )
    return albums


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        albums = build_albums(Path(tmp))

        console.rule("A nested multimodal DocList")
        albums.summary()
        albums[0].summary()
        console.print("titles:", albums.title)
        console.print("cover captions:", albums.cover.caption.text)

        console.rule("The same documents as a column-wise DocVec")
        vec = DocVec[Album](albums)
        vec.summary()
        console.print("stacked cover images:", tuple(vec.cover.image.tensor.shape))
        view = vec[1]
        console.print("vec[1] is a view:", view.is_view(), "| title:", view.title)

        console.rule("Exact search and filtering over all digits")
        all_digits = DocList[Digit](albums.traverse_flat("digits")).to_doc_vec()
        console.print("digit embeddings:", tuple(all_digits.embedding.shape))
        query = all_digits[7]
        found = find(all_digits, query, search_field="embedding", metric="cosine_sim", limit=5)
        console.print(
            f"query label {query.label} -> nearest labels {found.documents.label}, "
            f"scores {np.round(found.scores, 3).tolist()}"
        )
        sevens = filter_docs(all_digits, {"label": {"$eq": 7}})
        console.print(f"digits labelled 7: {len(sevens)} of {len(all_digits)}")

        console.rule("The embedded Document Index (SQLite + HNSW)")
        work_dir = Path(tmp) / "digits_index"
        index = HnswDocumentIndex[Digit](work_dir=str(work_dir), merge_threshold=50)
        index.index(all_digits, show_progress=True)
        console.print(f"indexed {index.num_docs()} digits in {work_dir}")
        found, scores = index.find(query, search_field="embedding", limit=5)
        console.print(
            f"find: query label {query.label} -> labels {found.label}, "
            f"scores {np.round(scores, 3).tolist()}"
        )
        hybrid = (
            index.build_query()
            .find(query, search_field="embedding")
            .filter({"label": {"$neq": query.label}})
            .build(limit=3)
        )
        found, scores = index.execute_query(hybrid)
        console.print(f"nearest digits that are not a {query.label}: labels {found.label}")
        index.close()  # one open index per work_dir at a time
        reopened = HnswDocumentIndex[Digit](work_dir=str(work_dir))
        console.print(
            f"reopened from disk: {reopened.num_docs()} digits, "
            f"{len(reopened.filter({'label': 7}, limit=10_000))} labelled 7"
        )
        reopened.close()

        console.rule("Sending: bytes, files and Arrow")
        data = all_digits.to_bytes(compress="lz4")
        back = DocVec[Digit].from_bytes(data)
        console.print(
            f"to_bytes (lz4): {len(data) / 1e6:.2f} MB for {len(all_digits)} digits; "
            f"from_bytes gives them back equal: {back == all_digits}"
        )
        path = Path(tmp) / "digits.docstack.zst"
        all_digits.save_binary(path)
        streamed = sum(1 for _ in DocList[Digit].load_binary(path, streaming=True))
        console.print(f"save_binary -> {path.name}; streamed back {streamed} digits")
        table = all_digits.to_arrow()
        console.print(f"to_arrow: {table.num_rows} rows, columns {table.column_names}")


if __name__ == "__main__":
    main()
