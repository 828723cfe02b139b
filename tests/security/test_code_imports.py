"""The code node's importable standard library (runs/engine/expressions/modules.py): each
allowed module works, every other import is refused naming the line, and no allowed module
is a way out (module internals, loaders, the real module objects, unbounded C work)."""

from __future__ import annotations

import pytest

from runs.engine.sandbox_process import CodeError, WorkerPool
from tests.security.payloads import ESCAPES

pytestmark = pytest.mark.slow

NAMES = {"input": [3, 1, 2], "nodes": {}, "run": {"id": 1}, "trigger": {}, "now": "x"}


@pytest.fixture(scope="module")
def pool():
    p = WorkerPool(size=1, memory_mb=256)
    yield p
    p.close()


WORKING = {
    "json": ("import json\nresult = json.loads(json.dumps({'b': 1, 'a': [1]}, sort_keys=True))",
             {"a": [1], "b": 1}),
    "re": ("import re\nm = re.search(r'(\\d+)-(\\d+)', 'id 12-34')\n"
           "result = [m.group(1), list(m.groups()), re.sub(r'\\d', lambda m: '#', 'a1b2'),"
           " re.compile('b', re.I).findall('aBb')]",
           ["12", ["12", "34"], "a#b#", ["B", "b"]]),
    "math": ("import math\nresult = [math.floor(2.5), math.gcd(12, 18), math.isclose(math.pi,"
             " 3.14159, abs_tol=1e-5), math.factorial(5)]", [2, 6, True, 120]),
    "datetime": ("import datetime\nd = datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone"
                 ".utc) + datetime.timedelta(days=3)\nresult = [d.isoformat(), d.strftime("
                 "'%Y/%m/%d'), f'{d:%d}', str(d.date()), d, datetime.timedelta(minutes=1)]",
                 ["2024-01-05T00:00:00+00:00", "2024/01/05", "05", "2024-01-05",
                  "2024-01-05T00:00:00+00:00", 60.0]),
    "decimal": ("from decimal import Decimal, ROUND_HALF_UP\nx = Decimal('1.10') + "
                "Decimal('2.205')\nresult = [str(x.quantize(Decimal('0.01'), rounding="
                "ROUND_HALF_UP)), x]", ["3.31", "3.305"]),
    "statistics": ("import statistics\nresult = [statistics.mean([1, 2, 3]), statistics."
                   "median([3, 1, 2]), statistics.mode('aab')]", [2, 2, "a"]),
    "itertools": ("import itertools\nresult = [list(itertools.chain([1], [2])), list("
                  "itertools.chain.from_iterable([[1], [2]])), list(itertools.islice("
                  "itertools.count(), 3)), [k for k, g in itertools.groupby('aabb')], len("
                  "list(itertools.product('ab', repeat=2)))]",
                  [[1, 2], [1, 2], [0, 1, 2], ["a", "b"], 4]),
    "collections": ("from collections import Counter, defaultdict, deque, namedtuple\n"
                    "c = Counter('abca')\nd = defaultdict(list)\nd['x'].append(1)\n"
                    "P = namedtuple('P', 'x y')\np = P(1, 2)\nresult = [c.most_common(1), "
                    "dict(d), deque([1, 2], maxlen=1), p.x + p.y]",
                    [[["a", 2]], {"x": [1]}, [2], 3]),
    "hashlib": ("import hashlib\nresult = [hashlib.sha256(b'abc').hexdigest()[:8], "
                "hashlib.md5('x'.encode()).hexdigest()[:8], hashlib.new('sha1', b'')."
                "hexdigest()[:8]]", ["ba7816bf", "9dd4e461", "da39a3ee"]),
    "base64": ("import base64\nresult = [base64.b64encode(b'hi').decode(), base64."
               "urlsafe_b64decode('aGk=').decode()]", ["aGk=", "hi"]),
    "uuid": ("import uuid\nresult = [len(str(uuid.uuid4())), uuid.uuid4().version, "
             "uuid.uuid5(uuid.NAMESPACE_DNS, 'example.org')]",
             [36, 4, "aad03681-8b63-5304-89e0-8ca8f49461b5"]),
    "random": ("import random\nrandom.seed(7)\na = random.randint(1, 1000)\nrandom.seed(7)\n"
               "result = [a == random.randint(1, 1000), random.choice([5]), len(random.sample("
               "range(10), 3))]", [True, 5, 3]),
    "string": ("import string\nresult = [string.ascii_lowercase[:3], string.Template('hi $n')"
               ".substitute(n='ada'), string.capwords('a b')]", ["abc", "hi ada", "A B"]),
    "textwrap": ("import textwrap\nresult = [textwrap.wrap('aaa bbb ccc', 4), textwrap.dedent("
                 "'  x'), textwrap.indent('a', '> ')]", [["aaa", "bbb", "ccc"], "x", "> a"]),
    "urllib.parse": ("import urllib.parse\nu = urllib.parse.urlparse('https://a.b:8080/c?d=1')"
                     "\nresult = [u.hostname, u.port, urllib.parse.parse_qs(u.query), urllib."
                     "parse.urlencode({'a': 'b c'})]", ["a.b", 8080, {"d": ["1"]}, "a=b+c"]),
}


@pytest.mark.parametrize("module", sorted(WORKING))
def test_each_allowed_module_works(pool, module):
    code, expected = WORKING[module]
    assert pool.run(code, NAMES, timeout=10) == expected


@pytest.mark.parametrize("code", [
    "from urllib.parse import urljoin as join\nresult = join('http://a/b/', 'c')",
    "from urllib import parse\nresult = parse.quote('a b')",
    "import json as j, math\nresult = j.dumps(math.floor(1.5))",
])
def test_import_forms(pool, code):
    assert pool.run(code, NAMES, timeout=10) in ("http://a/b/c", "a%20b", "1")


def test_module_errors_can_be_caught_by_their_own_type(pool):
    code = ("import json\ntry:\n    json.loads('{')\nexcept json.JSONDecodeError as e:\n"
            "    result = 'bad: ' + str(e)")
    assert pool.run(code, NAMES, timeout=10).startswith("bad: ")
    code = "import decimal\ntry:\n    decimal.Decimal('x')\nexcept ArithmeticError:\n" \
           "    result = 'caught'"
    assert pool.run(code, NAMES, timeout=10) == "caught"


@pytest.mark.parametrize("module", [
    "os", "sys", "subprocess", "socket", "builtins", "importlib", "pickle", "ctypes", "io",
    "shutil", "pathlib", "urllib.request", "urllib.error", "json.decoder", "http.client",
    "asyncio", "threading", "signal", "marshal", "types", "inspect", "gc", "posix", "_io",
    "encodings", "functools", "operator", "zoneinfo",
])
def test_any_other_import_is_refused_naming_the_line(pool, module):
    with pytest.raises(CodeError) as info:
        pool.run(f"x = 1\nimport {module}", NAMES, timeout=10)
    assert info.value.lineno == 2
    assert "ImportError" in info.value.reason
    assert "not allowed" in info.value.reason
    with pytest.raises(CodeError, match="line 1: ImportError"):
        pool.run(f"from {module} import x", NAMES, timeout=10)


@pytest.mark.parametrize("code", [
    "from json import *", "from . import json", "from json import decoder",
    "from re import _compiler", "from statistics import sys", "from string import Formatter",
    "from uuid import uuid1", "from decimal import getcontext", "from hashlib import scrypt",
])
def test_refused_import_forms(pool, code):
    with pytest.raises(CodeError, match="ImportError"):
        pool.run(code, NAMES, timeout=10)


# Escape attempts through each allowed module: internals, loaders, the real module, globals of
# their functions, host objects their values carry.
MODULE_ESCAPES = [
    "import json\nresult = json.decoder.sys",
    "import json\nresult = json.encoder",
    "import json\nresult = json.__loader__",
    "import json\nresult = json.__spec__",
    "import json\nresult = json.__dict__",
    "import json\nresult = json.loads.__globals__['sys']",
    "import json\nresult = json.dumps.__wrapped__",
    "import json\nresult = json.JSONDecodeError.__subclasses__()",
    "import json\nresult = json.JSONDecodeError.mro()",
    "import re\nresult = re._compiler",
    "import re\nresult = re.sre_compile",
    "import re\nresult = re.enum",
    "import re\nresult = re.functools",
    "import re\nresult = re.compile('a').__class__",
    "import re\nresult = re.match('a', 'a').re.__reduce__()",
    "import re\nresult = re.sub.__closure__",
    "import math\nresult = math.__loader__.load_module('os')",
    "import math\nresult = math.__builtins__",
    "import datetime\nresult = datetime.sys",
    "import datetime\nresult = datetime.datetime.__subclasses__()",
    "import datetime\nresult = datetime.datetime.now().__class__.__base__",
    "import datetime\nresult = datetime.datetime.now().tzinfo.__reduce__()",
    "import decimal\nresult = decimal.getcontext()",
    "import decimal\nresult = decimal.DefaultContext",
    "import decimal\nresult = decimal.setcontext",
    "import decimal\nresult = decimal.Decimal(1).__class__.__module__",
    "import statistics\nresult = statistics.sys",
    "import statistics\nresult = statistics.random",
    "import statistics\nresult = statistics.NormalDist.__init__.__globals__",
    "import statistics\nresult = statistics.NormalDist().__dict__",
    "import itertools\nresult = itertools.chain.__self__",
    "import itertools\nresult = itertools.count().gi_frame.f_back.f_globals",
    "import itertools\nresult = itertools.count().gi_code",
    "import collections\nresult = collections.abc",
    "import collections\nresult = collections._sys",
    "import collections\nresult = collections.namedtuple('P', 'x').__new__.__globals__",
    "import collections\nP = collections.namedtuple('P', 'x')\nresult = P._make",
    "import collections\nresult = collections.Counter().__class__.__init__.__globals__",
    "import collections\nresult = collections.Counter.most_common.__globals__",
    "import collections\nresult = collections.defaultdict(list).default_factory.__self__",
    "import hashlib\nresult = hashlib._hashlib",
    "import hashlib\nresult = hashlib.file_digest",
    "import hashlib\nresult = hashlib.sha256().__class__",
    "import base64\nresult = base64.binascii",
    "import base64\nresult = base64.struct",
    "import base64\nresult = base64.b64encode.__code__",
    "import uuid\nresult = uuid.os",
    "import uuid\nresult = uuid.uuid1()",
    "import uuid\nresult = uuid.getnode()",
    "import uuid\nresult = uuid.uuid4().__init__",
    "import random\nresult = random._os",
    "import random\nresult = random.random.__self__",
    "import random\nresult = random.Random.__init_subclass__",
    "import random\nresult = random.SystemRandom",
    "import string\nresult = string.Formatter().format('{0.__class__}', 1)",
    "import string\nresult = string.Template('$a').__class__.__init__.__globals__",
    "import string\nresult = string.Template.pattern.__class__",
    "import textwrap\nresult = textwrap.re",
    "import textwrap\nresult = textwrap.TextWrapper",
    "import urllib\nresult = urllib.request",
    "import urllib.parse\nresult = urllib.parse.sys",
    "import urllib.parse\nresult = urllib.parse.urlparse('http://a').__class__.__bases__",
    "import urllib.parse\nresult = urllib.parse.urlparse('http://a')._replace",
    "import urllib.parse\nresult = urllib.parse.quote.__defaults__",
    "import json\njson.loads = 1\nresult = json.loads",
    "import json\ndel json.loads",
    "import json\nresult = getattr(json, 'decoder')",
    "import json\nresult = vars(json)",
    "import json\nresult = json.dumps(1, cls=dict)",
]


@pytest.mark.parametrize("payload", MODULE_ESCAPES)
def test_escapes_through_allowed_modules_fail(pool, payload):
    with pytest.raises(CodeError):
        pool.run(payload, NAMES, timeout=5)


@pytest.mark.parametrize("payload", ESCAPES[:20])
def test_the_escape_corpus_still_fails_with_modules_imported(pool, payload):
    with pytest.raises(CodeError):
        pool.run("import json, re, collections, itertools, datetime\n" + payload, NAMES,
                 timeout=5)


@pytest.mark.parametrize(("code", "reason"), [
    ("import itertools\nresult = sum(itertools.count())", "timed out"),
    ("import itertools\nresult = list(itertools.repeat(0, 10**10))", "too large"),
    ("import itertools\nresult = list(itertools.product(range(10), repeat=10**6))",
     "too many copies"),
    ("import math\nresult = math.factorial(10**7)", "too large"),
    ("import math\nresult = math.comb(10**8, 5 * 10**7)", "too large"),
    ("import random\nresult = random.randbytes(10**10)", "too large"),
    ("import random\nresult = random.getrandbits(10**9)", "too large"),
    ("import random\nresult = random.choices([1], k=10**9)", "too large"),
    ("import hashlib\nresult = hashlib.shake_256(b'x').hexdigest(10**10)", "too large"),
    ("import hashlib\nresult = hashlib.pbkdf2_hmac('sha256', b'p', b's', 10**10)",
     "too large"),
    ("import decimal\nresult = decimal.Context(prec=10**9)", "too large"),
    ("import string\nresult = string.Template('$a' * 10**6).substitute(a='x' * 10**6)",
     "too large"),
    ("import textwrap\nresult = textwrap.indent('\\n' * 10**6, 'x' * 1000)", "too large"),
    ("import json\nresult = json.dumps(['a' * 10**6] * 10**6)", "too large"),
    ("import json\nresult = json.loads('[' * 10**7)", "too large"),
    ("import collections\nresult = collections.namedtuple('P', ['f%d' % i for i in "
     "range(5000)])", "too large"),
    ("import datetime\nresult = datetime.date.today().strftime('%c' * 10**6)", "too large"),
    ("import math\nresult = math.prod(range(1, 10**6))", "too large"),
    ("import math\nresult = math.lcm(*range(1, 10**5))", "too large"),
    ("import math\nresult = math.perm(10**6)", "too large"),
    ("import decimal\nresult = int(decimal.Decimal('1e999999'))", "too large"),
    ("import decimal\nresult = round(decimal.Decimal('1e999999'))", "too large"),
    ("import decimal, math\nresult = math.floor(decimal.Decimal('1e999999'))", "too large"),
    ("import decimal\nresult = decimal.Decimal('1e999999').as_integer_ratio()", "too large"),
    ("import decimal, statistics\nresult = statistics.mean([decimal.Decimal('1e999999')])",
     "too large"),
    ("import decimal\nresult = decimal.Context(Emax=decimal.MAX_EMAX)", "too large"),
    ("import collections\nresult = collections.deque([1]) * 10**10", "too large"),
    ("import itertools\nresult = sorted(itertools.count())", "too large"),
    ("import itertools\nresult = set(itertools.count())", "too large"),
    ("import collections, itertools\nresult = collections.Counter(itertools.count())",
     "(?i)timed out|memory"),
    ("import re\nresult = re.match(r'(a+)+$', 'a' * 60 + 'b')", "timed out"),
])
def test_module_bombs_are_stopped_and_the_worker_serves_on(pool, code, reason):
    # A bomb stopped by size gets time to reach the memory limit even on a loaded machine
    # (a 1 s limit made them time out first in CI); a bomb stopped by time gets 1 s.
    timeout = 1 if "timed out" in reason else 20
    with pytest.raises(CodeError, match=reason):
        pool.run(code, NAMES, timeout=timeout)
    assert pool.run("import json\nresult = json.dumps('ok')", NAMES, timeout=10) == '"ok"'


def test_random_state_does_not_carry_over_between_runs(pool):
    first = pool.run("import random\nrandom.seed(1)\nresult = random.random()", NAMES,
                     timeout=10)
    later = pool.run("import random\nresult = random.random()", NAMES, timeout=10)
    assert later != first
