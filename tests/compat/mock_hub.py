"""A small Hugging Face Hub stand-in on 127.0.0.1 for the hub-client tests.

It serves what the hub serves and what huggingface_hub 2.x asks for: the model
API (`/api/models/{repo}/revision/{rev}`, with `blobs=true` sizes and hashes),
the tree listing, `resolve/` HEAD and GET (small files inline with their git
blob id as ETag, LFS files redirected to a CDN on another host name,
`localhost`, with `X-Linked-Etag` / `X-Linked-Size`), HTTP ranges, 401/403 for
gated and private repositories, and injected faults (statuses, a connection cut
mid-file, corrupted bytes). Every request is logged for the tests to inspect.
"""
import hashlib
import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GOOD_TOKEN = "hf_mock_good_token"


def git_blob_id(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Repo:
    def __init__(self, files, lfs_suffixes=(".safetensors", ".gguf", ".model", ".onnx"), gated=False, private=False):
        self.files = dict(files)  # path -> bytes
        self.lfs = {p for p in self.files if p.endswith(lfs_suffixes)}
        self.gated, self.private = gated, private
        self.commit = hashlib.sha1(b"".join(p.encode() + hashlib.sha256(d).digest() for p, d in sorted(self.files.items()))).hexdigest()

    def entry(self, path):
        data = self.files[path]
        e = {"rfilename": path, "size": len(data), "blobId": git_blob_id(data)}
        if path in self.lfs:
            e["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
        return e


class MockHub:
    def __init__(self):
        self.repos = {}
        self.log = []
        self.faults = {}  # path -> list of actions: int status, ("cut", nbytes), ("retry_after", status, seconds)
        self.corrupt = set()
        self.lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                hub._handle(self, head=True)

            def do_GET(self):
                hub._handle(self, head=False)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def add(self, repo_id, files, **kw):
        self.repos[repo_id] = Repo(files, **kw)
        return self.repos[repo_id]

    def reset(self):
        with self.lock:
            self.log.clear()
            self.faults.clear()
            self.corrupt.clear()

    def file_gets(self):
        return [r for r in self.log if r["method"] == "GET" and ("/resolve/" in r["path"] or r["path"].startswith("/cdn/"))]

    def served_bytes(self):
        return sum(r["sent"] for r in self.log)

    # --- request handling -------------------------------------------------
    def _send(self, h, status, body=b"", headers=None, head=False, record=None):
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if not head:
            h.wfile.write(body)
            if record is not None:
                record["sent"] += len(body)

    def _error(self, h, status, code, message, head):
        body = json.dumps({"error": message}).encode()
        self._send(h, status, body, {"X-Error-Code": code, "X-Error-Message": message, "Content-Type": "application/json"}, head)

    def _authorized(self, h, repo_id, repo, head):
        auth = h.headers.get("Authorization", "")
        if not (repo.gated or repo.private) or auth == f"Bearer {GOOD_TOKEN}":
            return True
        if repo.private:
            self._error(h, 401, "RepoNotFound", "Repository Not Found for url.", head)
        elif not auth:
            self._error(h, 401, "GatedRepo", f"Access to model {repo_id} is restricted. You must have access to it and be authenticated to access it. Please log in.", head)
        else:
            self._error(h, 403, "GatedRepo", f"Access to model {repo_id} is restricted and you are not in the authorized list.", head)
        return False

    def _handle(self, h, head):
        url = urllib.parse.urlsplit(h.path)
        path = urllib.parse.unquote(url.path)
        record = {"method": h.command, "host": h.headers.get("Host", ""), "path": path, "query": url.query,
                  "authorization": h.headers.get("Authorization"), "range": h.headers.get("Range"), "sent": 0}
        with self.lock:
            self.log.append(record)
        m = re.fullmatch(r"/api/models/([^/]+/[^/]+)/(revision|tree)/([^/]+)(/.*)?", path)
        if m:
            return self._api(h, m.group(1), m.group(2), m.group(3), head, record)
        m = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
        if m:
            return self._resolve(h, m.group(1), m.group(2), m.group(3), head, record)
        m = re.fullmatch(r"/cdn/([0-9a-f]{64})/(.+)", path)
        if m:
            for repo in self.repos.values():
                for p in repo.lfs:
                    if p == m.group(2) and hashlib.sha256(repo.files[p]).hexdigest() == m.group(1):
                        return self._content(h, p, repo.files[p], {}, head, record)
        self._error(h, 404, "EntryNotFound", "Not found", head)

    def _lookup(self, h, repo_id, revision, head):
        repo = self.repos.get(repo_id)
        if repo is None:
            self._error(h, 401, "RepoNotFound", "Repository Not Found for url.", head)
            return None
        if not self._authorized(h, repo_id, repo, head):
            return None
        if revision not in ("main", repo.commit):
            self._error(h, 404, "RevisionNotFound", f"Invalid rev id: {revision}", head)
            return None
        return repo

    def _api(self, h, repo_id, kind, revision, head, record):
        repo = self._lookup(h, repo_id, urllib.parse.unquote(revision), head)
        if repo is None:
            return
        if kind == "tree":
            items = []
            for p in sorted(repo.files):
                e = repo.entry(p)
                t = {"type": "file", "oid": e["blobId"], "size": e["size"], "path": p}
                if "lfs" in e:
                    t["lfs"] = {"oid": e["lfs"]["sha256"], "size": e["size"], "pointerSize": 134}
                items.append(t)
            body = json.dumps(items).encode()
        else:
            body = json.dumps({"id": repo_id, "modelId": repo_id, "sha": repo.commit, "private": repo.private,
                               "gated": "manual" if repo.gated else False,
                               "siblings": [repo.entry(p) for p in sorted(repo.files)]}).encode()
        self._send(h, 200, body, {"Content-Type": "application/json"}, head, record)

    def _resolve(self, h, repo_id, revision, filename, head, record):
        repo = self._lookup(h, repo_id, revision, head)
        if repo is None:
            return
        if filename not in repo.files:
            return self._error(h, 404, "EntryNotFound", f"{filename} does not exist", head)
        data = repo.files[filename]
        common = {"X-Repo-Commit": repo.commit}
        if filename in repo.lfs:
            sha = hashlib.sha256(data).hexdigest()
            location = f"http://localhost:{self.port}/cdn/{sha}/{urllib.parse.quote(filename)}"
            return self._send(h, 302, b"", dict(common, **{"Location": location, "X-Linked-Etag": f'"{sha}"',
                                                        "X-Linked-Size": str(len(data)), "ETag": f'"{git_blob_id(data)}"'}), head)
        return self._content(h, filename, data, dict(common, ETag=f'"{git_blob_id(data)}"'), head, record)

    def _content(self, h, filename, data, headers, head, record):
        action = None
        if not head:
            with self.lock:
                queue = self.faults.get(filename)
                if queue:
                    action = queue.pop(0)
        if isinstance(action, int):
            return self._error(h, action, "Injected", f"injected HTTP {action}", head)
        if isinstance(action, tuple) and action[0] == "retry_after":
            h.send_response(action[1])
            h.send_header("Retry-After", str(action[2]))
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        if filename in self.corrupt:
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        start, end, status = 0, len(data) - 1, 200
        rng = h.headers.get("Range")
        if rng:
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng)
            start = int(m.group(1))
            end = min(int(m.group(2)), len(data) - 1) if m.group(2) else len(data) - 1
            if start >= len(data):
                return self._send(h, 416, b"", {"Content-Range": f"bytes */{len(data)}"}, head)
            status = 206
        body = data[start:end + 1]
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Accept-Ranges", "bytes")
        if status == 206:
            h.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if head:
            return
        if isinstance(action, tuple) and action[0] == "cut":
            h.wfile.write(body[:action[1]])
            h.wfile.flush()
            record["sent"] += min(action[1], len(body))
            h.close_connection = True
            h.connection.shutdown(2)
            return
        h.wfile.write(body)
        record["sent"] += len(body)
