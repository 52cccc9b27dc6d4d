"""The code examples of the seed talk's "Storing & retrieving via Vector Database" and
"Document Index" sections, run unchanged but for the import (``docarray`` -> ``docstack``) and
the ``work_dir`` (a temporary folder), followed by checks of what they return.

The seed spells nested search fields ``thumbnail_tensor`` (a rendering of DocArray's
``thumbnail__tensor``); the double underscore is used here, as in DocArray.

Every example but the HNSW-specific configuration runs on each backend, the class and its
connection settings being the only change (``open_index``): the embedded index, Milvus Lite
and Qdrant's local mode.
"""

import numpy as np
import pytest

# the seed passes index settings as extra keywords of pydantic's Field, which pydantic 2
# deprecates (a warning, not an error)
pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20")


def _open(backend: str, doc_type: type, path) -> object:
    import docstack.index as index_module

    if backend == "hnsw":
        return index_module.HnswDocumentIndex[doc_type](work_dir=str(path))
    if backend == "milvus":
        return index_module.MilvusDocumentIndex[doc_type](uri=str(path) + ".db")
    return index_module.QdrantDocumentIndex[doc_type](location=":memory:")


@pytest.fixture(params=["hnsw", "milvus", "qdrant"])
def open_index(request):
    """``open_index(DocClass, path)``: a new index of the backend under test."""
    return lambda doc_type, path: _open(request.param, doc_type, path)


def _cosine(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    m = np.asarray(matrix, dtype=np.float64)
    q = np.asarray(query, dtype=np.float64)
    return (m @ q) / (np.linalg.norm(m, axis=1) * np.linalg.norm(q))


def _assert_sorted_desc(scores) -> None:
    scores = np.asarray(scores)
    assert np.all(np.diff(scores) <= 1e-7), scores


def test_storing_and_retrieving_image_docs(tmp_path, open_index):
    from docstack import BaseDoc, DocList
    from docstack.typing import ImageTensor, ImageUrl, NdArray

    class ImageDoc(BaseDoc):
        url: ImageUrl
        tensor: ImageTensor
        embedding: NdArray[128]

    # create some data
    dl = DocList[ImageDoc](
        [
            ImageDoc(
                url="https://upload.wikimedia.org/wikipedia/commons/2/2f/Alpamayo.jpg",
                tensor=np.zeros((3, 224, 224)),
                embedding=np.random.random((128,)),
            )
            for _ in range(100)
        ]
    )

    # create a Document Index
    index = open_index(ImageDoc, tmp_path / "test_index2")

    # index your data
    index.index(dl)

    # find similar Documents
    query = dl[0]
    results, scores = index.find(query, limit=10, search_field="embedding")

    assert index.num_docs() == 100
    assert len(results) == 10 and len(scores) == 10
    assert results[0].id == dl[0].id
    assert scores[0] == pytest.approx(1.0, abs=1e-5)
    _assert_sorted_desc(scores)
    # exactly the ten most similar of the hundred
    sims = _cosine(np.stack([d.embedding for d in dl]), dl[0].embedding)
    assert results.id == [dl[int(i)].id for i in np.argsort(-sims, kind="stable")[:10]]
    np.testing.assert_allclose(scores, np.sort(sims)[::-1][:10], rtol=1e-5)
    # the documents come back whole
    assert results[0].url == "https://upload.wikimedia.org/wikipedia/commons/2/2f/Alpamayo.jpg"
    assert results[0].tensor.shape == (3, 224, 224)
    assert not np.asarray(results[0].tensor).any()
    np.testing.assert_allclose(results[0].embedding, dl[0].embedding, rtol=1e-6)


def _my_doc_db(tmp_path, open_index, name="my_test_db"):
    from docstack import BaseDoc
    from docstack.typing import NdArray

    class MyDoc(BaseDoc):
        embedding: NdArray[128]
        text: str

    db = open_index(MyDoc, tmp_path / name)
    return MyDoc, db


def _index_my_docs(MyDoc, db):
    from docstack import DocList

    # create some random data
    docs = DocList[MyDoc](
        [MyDoc(embedding=np.random.rand(128), text=f"text {i}") for i in range(100)]
    )
    # index the data
    db.index(docs)
    return docs


def test_index_data_and_vector_search(tmp_path, open_index):
    from docstack import DocList

    MyDoc, db = _my_doc_db(tmp_path, open_index)
    docs = _index_my_docs(MyDoc, db)
    assert db.num_docs() == 100
    matrix = np.stack([d.embedding for d in docs])

    def expected(q):
        sims = _cosine(matrix, q)
        order = np.argsort(-sims, kind="stable")[:5]
        return [docs[int(i)].text for i in order], sims[order]

    # search by Document
    # create a query Document
    query = MyDoc(embedding=np.random.rand(128), text="query")
    # find similar Documents
    matches, scores = db.find(query, search_field="embedding", limit=5)
    print(f"{matches=}")
    print(f"{matches.text=}")
    print(f"{scores=}")
    texts, sims = expected(query.embedding)
    assert matches.text == texts
    np.testing.assert_allclose(scores, sims, rtol=1e-5)

    # search by raw vector
    # create a query vector
    query = np.random.rand(128)
    # find similar Documents
    matches, scores = db.find(query, search_field="embedding", limit=5)
    print(f"{matches=}")
    print(f"{matches.text=}")
    print(f"{scores=}")
    texts, sims = expected(query)
    assert matches.text == texts
    np.testing.assert_allclose(scores, sims, rtol=1e-5)

    # search by Documents
    # create some query Documents
    queries = DocList[MyDoc](
        MyDoc(embedding=np.random.rand(128), text=f"query {i}") for i in range(3)
    )
    # find similar Documents
    matches, scores = db.find_batched(queries, search_field="embedding", limit=5)
    print(f"{matches=}")
    print(f"{matches[0].text=}")
    print(f"{scores=}")
    assert len(matches) == 3 and len(scores) == 3
    for q, m, s in zip(queries, matches, scores):
        texts, sims = expected(q.embedding)
        assert m.text == texts
        np.testing.assert_allclose(s, sims, rtol=1e-5)

    # search by raw vectors
    # create some query vectors
    query = np.random.rand(3, 128)
    # find similar Documents
    matches, scores = db.find_batched(query, search_field="embedding", limit=5)
    print(f"{matches=}")
    print(f"{matches[0].text=}")
    print(f"{scores=}")
    assert len(matches) == 3 and len(scores) == 3
    for q, m, s in zip(query, matches, scores):
        texts, sims = expected(q)
        assert m.text == texts
        assert len(m) == 5
        _assert_sorted_desc(s)
        np.testing.assert_allclose(s, sims, rtol=1e-5)


def test_hybrid_search_through_the_query_builder(tmp_path, open_index):
    MyDoc, db = _my_doc_db(tmp_path, open_index)
    docs = _index_my_docs(MyDoc, db)

    # prepare a query
    q_doc = MyDoc(embedding=np.random.rand(128), text="query")

    query = (
        db.build_query()  # get empty query object
        .find(query=q_doc, search_field="embedding")  # add vector similarity search
        .filter(filter_query={"text": {"$exists": True}})  # add filter search
        .build()  # build the query
    )

    # execute the combined query and return the results
    results = db.execute_query(query)
    print(f"{results=}")

    # every document has a text: the ten nearest, with their cosine similarities
    sims = _cosine(np.stack([d.embedding for d in docs]), q_doc.embedding)
    order = np.argsort(-sims, kind="stable")[:10]
    assert results.documents.text == [docs[int(i)].text for i in order]
    np.testing.assert_allclose(results.scores, sims[order], rtol=1e-5)
    _assert_sorted_desc(results.scores)


def test_customize_vector_db_configuration(tmp_path):
    from docstack.index import HnswDocumentIndex

    MyDoc, _ = _my_doc_db(
        tmp_path, lambda t, p: HnswDocumentIndex[t](work_dir=str(p)), name="unused"
    )

    db = HnswDocumentIndex[MyDoc](work_dir=str(tmp_path / "my_db"))
    db.configure(
        default_column_config={
            np.ndarray: {
                "dim": -1,
                "index": True,
                "space": "ip",
                "max_elements": 2048,
                "ef_construction": 100,
                "ef": 15,
                "M": 8,
                "allow_replace_deleted": True,
                "num_threads": 5,
            },
            None: {},
        }
    )

    # the settings hold: inner product scores, from the graph too once it is built
    docs = _index_my_docs(MyDoc, db)
    matrix = np.stack([d.embedding for d in docs]).astype(np.float64)
    q = np.random.rand(128)
    matches, scores = db.find(q, search_field="embedding", limit=5)
    ip = matrix @ q
    order = np.argsort(-ip, kind="stable")[:5]
    assert matches.text == [docs[int(i)].text for i in order]
    np.testing.assert_allclose(scores, ip[order], rtol=1e-5)
    assert db.num_docs() == 100

    # the same settings on a graph (the seed's hundred documents stay in the exact growing
    # segment; merge them into an HNSW graph at once here)
    graph_db = HnswDocumentIndex[MyDoc](work_dir=str(tmp_path / "my_graph_db"), merge_threshold=50)
    graph_db.configure(
        default_column_config={
            np.ndarray: {
                "dim": -1,
                "index": True,
                "space": "ip",
                "max_elements": 2048,
                "ef_construction": 100,
                "ef": 15,
                "M": 8,
                "allow_replace_deleted": True,
                "num_threads": 5,
            },
            None: {},
        }
    )
    graph_db.index(docs)
    assert list((tmp_path / "my_graph_db" / "hnsw").glob("*.bin"))
    del graph_db[docs[0].id]
    graph_db.index(MyDoc(id=docs[1].id, embedding=docs[1].embedding * 2, text="text 1"))
    matrix[1] *= 2
    alive = np.ones(100, dtype=bool)
    alive[0] = False
    recalls = []
    for q in np.random.rand(10, 128):
        matches, scores = graph_db.find(q, search_field="embedding", limit=5)
        assert docs[0].id not in matches.id
        ip = matrix @ q
        got = [int(t.split()[1]) for t in matches.text]
        np.testing.assert_allclose(scores, ip[got], rtol=1e-5)
        _assert_sorted_desc(scores)
        truth = np.argsort(-np.where(alive, ip, -np.inf), kind="stable")[:5]
        recalls.append(len(set(got) & set(truth.tolist())) / 5)
    assert np.mean(recalls) >= 0.8
    assert graph_db.num_docs() == 99


def test_indexing_and_searching_multimodal_data(tmp_path, open_index):
    from pydantic import Field

    from docstack import BaseDoc
    from docstack.typing import AnyTensor, ImageUrl, VideoUrl

    # define a nested schema
    class ImageDoc(BaseDoc):
        url: ImageUrl
        tensor: AnyTensor = Field(space="cosine", dim=64)

    class VideoDoc(BaseDoc):
        url: VideoUrl
        tensor: AnyTensor = Field(space="cosine", dim=128)

    class YouTubeVideoDoc(BaseDoc):
        title: str
        description: str
        thumbnail: ImageDoc
        video: VideoDoc
        tensor: AnyTensor = Field(space="cosine", dim=256)

    # create a Document Index
    doc_index = open_index(YouTubeVideoDoc, tmp_path / "tmp2")

    # create some data
    index_docs = [
        YouTubeVideoDoc(
            title=f"video {i + 1}",
            description=f"this is video from author {10 * i}",
            thumbnail=ImageDoc(url=f"http://example.ai/images/{i}", tensor=np.ones(64)),
            video=VideoDoc(url=f"http://example.ai/videos/{i}", tensor=np.ones(128)),
            tensor=np.ones(256),
        )
        for i in range(8)
    ]

    # index the Documents
    doc_index.index(index_docs)

    # create a query Document
    query_doc = YouTubeVideoDoc(
        title="video query",
        description="this is a query video",
        thumbnail=ImageDoc(url="http://example.ai/images/1024", tensor=np.ones(64)),
        video=VideoDoc(url="http://example.ai/videos/1024", tensor=np.ones(128)),
        tensor=np.ones(256),
    )

    by_field = {}
    # find by the `youtubevideo` tensor; root level
    docs, scores = doc_index.find(query_doc, search_field="tensor", limit=3)
    by_field["tensor"] = (docs, scores)

    # find by the `thumbnail` tensor; nested level
    docs, scores = doc_index.find(query_doc, search_field="thumbnail__tensor", limit=3)
    by_field["thumbnail__tensor"] = (docs, scores)

    # find by the `video` tensor; neseted level
    docs, scores = doc_index.find(query_doc, search_field="video__tensor", limit=3)
    by_field["video__tensor"] = (docs, scores)

    titles = {d.title: d for d in index_docs}
    for field, (docs, scores) in by_field.items():
        assert len(docs) == 3, field
        # every vector is all ones: every document is a perfect match
        np.testing.assert_allclose(scores, 1.0, atol=1e-5)
        assert len(set(docs.id)) == 3
        for d in docs:
            want = titles[d.title]
            assert d.id == want.id
            assert d.thumbnail.url == want.thumbnail.url
            assert d.video.url == want.video.url
            assert d.thumbnail.tensor.shape == (64,)
            assert d.video.tensor.shape == (128,)

    # a nested field tells documents apart: search by one document's thumbnail
    doc_index.index(
        YouTubeVideoDoc(
            id=index_docs[5].id,
            title="video 6",
            description="this is video from author 50",
            thumbnail=ImageDoc(url="http://example.ai/images/5", tensor=np.arange(64.0)),
            video=VideoDoc(url="http://example.ai/videos/5", tensor=np.ones(128)),
            tensor=np.ones(256),
        )
    )
    docs, scores = doc_index.find(np.arange(64.0), search_field="thumbnail__tensor", limit=8)
    assert docs[0].title == "video 6" and scores[0] == pytest.approx(1.0, abs=1e-6)
    assert scores[1] < 0.9
    _assert_sorted_desc(scores)
    assert doc_index.num_docs() == 8


def test_nested_doclist_with_subindex(tmp_path, open_index):
    from pydantic import Field

    from docstack import BaseDoc, DocList
    from docstack.typing import AnyTensor, ImageUrl, VideoUrl

    class ImageDoc(BaseDoc):
        url: ImageUrl
        tensor_image: AnyTensor = Field(space="cosine", dim=64)

    class VideoDoc(BaseDoc):
        url: VideoUrl
        images: DocList[ImageDoc]
        tensor_video: AnyTensor = Field(space="cosine", dim=128)

    class MyDoc(BaseDoc):
        docs: DocList[VideoDoc]
        tensor: AnyTensor = Field(space="cosine", dim=256)

    # create a Document Index
    doc_index = open_index(MyDoc, tmp_path / "tmp3")

    # create some data
    index_docs = [
        MyDoc(
            docs=DocList[VideoDoc](
                [
                    VideoDoc(
                        url=f"http://example.ai/videos/{i}-{j}",
                        images=DocList[ImageDoc](
                            [
                                ImageDoc(
                                    url=f"http://example.ai/images/{i}-{j}-{k}",
                                    tensor_image=np.ones(64),
                                )
                                for k in range(10)
                            ]
                        ),
                        tensor_video=np.ones(128),
                    )
                    for j in range(10)
                ]
            ),
            tensor=np.ones(256),
        )
        for i in range(10)
    ]

    # index the Documents
    doc_index.index(index_docs)

    # find by the `VideoDoc` tensor
    root_docs, sub_docs, scores = doc_index.find_subindex(
        np.ones(128), subindex="docs", search_field="tensor_video", limit=3
    )
    assert len(root_docs) == len(sub_docs) == len(scores) == 3
    np.testing.assert_allclose(scores, 1.0, atol=1e-5)
    for root, video in zip(root_docs, sub_docs):
        assert isinstance(video, VideoDoc) and isinstance(root, MyDoc)
        assert video.id in root.docs.id  # the root holds the video
        i = video.url.split("/")[-1].split("-")[0]
        assert root.docs[0].url.startswith(f"http://example.ai/videos/{i}-")
        assert len(root.docs) == 10 and all(len(v.images) == 10 for v in root.docs)
        assert len(video.images) == 10

    # find by the `ImageDoc` tensor
    root_docs, sub_docs, scores = doc_index.find_subindex(
        np.ones(64), subindex="docs__images", search_field="tensor_image", limit=3
    )
    assert len(root_docs) == len(sub_docs) == len(scores) == 3
    np.testing.assert_allclose(scores, 1.0, atol=1e-5)
    for root, image in zip(root_docs, sub_docs):
        assert isinstance(image, ImageDoc) and isinstance(root, MyDoc)
        assert image.id in {img.id for video in root.docs for img in video.images}
        i = image.url.split("/")[-1].split("-")[0]
        assert root.id == index_docs[int(i)].id

    # with distinct vectors the order is meaningful: one image stands out
    target = index_docs[7].docs[3].images[4]
    special = np.linspace(-1, 1, 64)
    changed = index_docs[7].model_copy(deep=True)
    changed.docs[3].images[4].tensor_image = special
    doc_index.index(changed)
    root_docs, sub_docs, scores = doc_index.find_subindex(
        special, subindex="docs__images", search_field="tensor_image", limit=5
    )
    assert sub_docs[0].id == target.id and root_docs[0].id == index_docs[7].id
    assert scores[0] == pytest.approx(1.0, abs=1e-6) and scores[1] < 0.5
    _assert_sorted_desc(scores)
    assert doc_index.num_docs() == 10
    assert len(doc_index.filter_subindex({}, subindex="docs__images", limit=2000)) == 1000
