"""The GraphDef of SummaryWriter.add_graph: given bytes passed through, or a
torch.nn.Module traced with torch.jit.trace and written by our own encoder.

What TensorBoard's graphs dashboard makes of a GraphDef: nodes whose names
are paths ("Net/fc/linear") are grouped by their "/" prefixes into boxes
that open; an edge goes from each name in a node's `input` ("name", or
"name:k" for its k-th output) to the node; the node's panel lists its op
and attributes, and the shapes in the attribute "_output_shapes" label the
edges. So a traced module becomes:
  - one "IO Node" per tensor input ("input/<name>") and output
    ("output/output.<k>");
  - one node per parameter or buffer read ("<Model>/<path>/<name>",
    op prim::GetAttr), with the tensor's shape and dtype;
  - one node per operation, named after the module that ran it and the
    operator ("<Model>/<path>/<operator>", op "aten::linear", ...), with
    its constant arguments as text in "attr" ("{stride: [1, 1], ...}",
    named from the operator's schema);
  - on every node with tensor outputs, "_output_shapes" and "dtype".
Constants that are not tensors (dimensions, flags, lists of them) are not
nodes: the dashboard would draw each one; they are shown in "attr".

Standard library only; torch is imported only when a module is given."""

import sys

from . import _wire as w

# VersionDef.producer of the GraphDefs TensorFlow's own writers make.
PRODUCER = 22

# torch scalar type names -> TensorBoard's DataType numbers (types.proto).
DTYPES = {"Float": 1, "Double": 2, "Int": 3, "Byte": 4, "Short": 5, "Char": 6,
          "Long": 9, "Bool": 10, "BFloat16": 14, "Half": 19, "ComplexFloat": 8,
          "ComplexDouble": 18}


def graph_bytes(model, input_to_model=None, verbose=False, use_strict_trace=True):
    """A serialized GraphDef for model: bytes-like as they are, an object
    with SerializeToString() (a tensorboard/TensorFlow GraphDef) serialized,
    or a torch.nn.Module traced on input_to_model (a tensor or a tuple of
    them). TypeError for anything else."""
    if isinstance(model, (bytes, bytearray, memoryview)):
        return bytes(model)
    ser = getattr(model, "SerializeToString", None)
    if callable(ser):
        return bytes(ser())
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        return trace(torch, model, input_to_model, verbose, use_strict_trace)
    raise TypeError("add_graph takes a torch.nn.Module (with torch installed), a serialized "
                    "GraphDef (bytes) or a message with SerializeToString(), not %s"
                    % type(model).__name__)


def trace(torch, model, args, verbose, strict):
    if args is None:
        raise ValueError("add_graph needs input_to_model to trace a torch.nn.Module")
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    training = model.training
    model.eval()   # dropout and batch norm as at inference, then put back
    try:
        with torch.no_grad():
            traced = torch.jit.trace(model, args, strict=strict)
    finally:
        model.train(training)
    g = traced.inlined_graph
    if verbose:
        print(g)
    return encode(g, type(model).__name__, torch, model)


# ---- from a torch graph to our nodes -----------------------------------------------

class _Names:
    """Unique node names: a name used again gets _1, _2, ..."""

    def __init__(self):
        self.seen = {}

    def __call__(self, name):
        k = self.seen.get(name)
        self.seen[name] = 0 if k is None else k + 1
        if k is None:
            return name
        return self(name + "_%d" % (k + 1))


def _is_tensor(v):
    return v.type().kind() == "TensorType"


def _shape(v):
    """The sizes of a tensor value (None for an unknown dimension), or None
    when its rank is unknown."""
    try:
        sizes = v.type().sizes()
    except RuntimeError:
        return None
    return None if sizes is None else [d if d is not None else -1 for d in sizes]


def _dtype(v):
    try:
        return DTYPES.get(v.type().scalarType())
    except RuntimeError:
        return None


def _arg_names(torch, n):
    """The operator's argument names, from its schema (None: unknown)."""
    try:
        return [a.name for a in torch._C.parse_schema(n.schema()).arguments]
    except Exception:   # no schema (prim:: nodes), or an older torch
        return None


def _attr_text(torch, n, consts):
    """The operator's constant arguments and attributes as text
    ("{stride: [1, 1], groups: 1}"), "" when none."""
    parts = []
    names = _arg_names(torch, n) if torch is not None else None
    for k, v in enumerate(n.inputs()):
        if v.unique() in consts:
            name = names[k] if names and k < len(names) else "arg%d" % k
            parts.append("%s: %r" % (name, consts[v.unique()]))
    for a in n.attributeNames():
        kind = n.kindOf(a)
        if kind in ("i", "f", "s", "is", "fs", "ss"):
            val = getattr(n, kind)(a)
        else:
            val = "<%s>" % kind   # tensors, graphs: not spelled out
        parts.append("%s: %s" % (a, val))
    return "{%s}" % ", ".join(parts) if parts else ""


def _scope(n, root):
    """The module path of an operation: "__module.fc.0" -> root/fc/0."""
    s = n.scopeName().split("/")[-1]
    if s.startswith("__module"):
        s = s[len("__module"):]
    return "/".join([root] + [p for p in s.split(".") if p])


def _constant(v):
    try:
        return v.toIValue()
    except Exception:
        return None


def _param(model, path):
    """(sizes, DataType) of the module attribute at path, or None."""
    obj = model
    for p in path:
        obj = getattr(obj, p, None)
    shape, dtype = getattr(obj, "shape", None), getattr(obj, "dtype", None)
    if shape is None or dtype is None:
        return None
    return list(shape), DTYPES.get(str(dtype).replace("torch.", ""), None) or \
        _TORCH_DTYPES.get(str(dtype))


# torch.dtype names -> DataType (the scalar type names are those of DTYPES).
_TORCH_DTYPES = {"torch.float32": 1, "torch.float64": 2, "torch.int32": 3, "torch.uint8": 4,
                 "torch.int16": 5, "torch.int8": 6, "torch.int64": 9, "torch.bool": 10,
                 "torch.bfloat16": 14, "torch.float16": 19, "torch.complex64": 8,
                 "torch.complex128": 18}


def encode(g, root, torch=None, model=None):
    """Serialized GraphDef of a torch.jit graph (its inlined form); root
    names the model (its class), model (optional) gives the shapes of its
    parameters."""
    names = _Names()
    producer = {}   # torch Value.unique() -> "node" or "node:k"
    paths = {}      # a module's Value.unique() -> its attribute path
    consts = {}     # a constant's Value.unique() -> its Python value
    out = []

    def add(name, op, inputs, outputs, text="", known=None):
        out.append(node(name, op, inputs, outputs, text, known))
        for k, v in enumerate(outputs):
            producer[v.unique()] = name if k == 0 else "%s:%d" % (name, k)

    for v in g.inputs():
        if v.type().kind() == "ClassType":   # the module itself
            paths[v.unique()] = []
        else:
            add(names("input/" + v.debugName()), "IO Node", [], [v])
    for n in g.nodes():
        kind = n.kind()
        outs = list(n.outputs())
        if kind == "prim::GetAttr":
            path = paths.get(n.input().unique(), []) + [n.s("name")]
            if outs[0].type().kind() == "ClassType":
                paths[outs[0].unique()] = path
            else:
                known = _param(model, path) if model is not None else None
                add(names("/".join([root] + path)), kind, [], outs, "", known)
            continue
        if kind == "prim::Constant" and not (outs and _is_tensor(outs[0])):
            consts[outs[0].unique()] = _constant(outs[0])
            continue
        ins = list(n.inputs())
        if kind in ("prim::ListConstruct", "prim::TupleConstruct") and \
                all(i.unique() in consts for i in ins):
            consts[outs[0].unique()] = [consts[i.unique()] for i in ins]
            continue
        inputs = [producer[i.unique()] for i in ins if i.unique() in producer]
        add(names(_scope(n, root) + "/" + kind.split("::")[-1]), kind, inputs, outs,
            _attr_text(torch, n, consts))
    for k, v in enumerate(g.outputs()):
        src = [producer[v.unique()]] if v.unique() in producer else []
        out.append(node(names("output/output.%d" % (k + 1)), "IO Node", src, [v]))
    return b"".join(w.f_bytes(1, x) for x in out) + w.f_bytes(4, w.f_varint(1, PRODUCER))


# ---- the wire format (proto/graph.proto) ------------------------------------------

def shape_proto(sizes):
    """TensorShapeProto: dims (size -1 unknown), or unknown_rank for None."""
    if sizes is None:
        return w.f_varint(3, 1)
    return b"".join(w.f_bytes(2, w.f_varint(1, d)) for d in sizes)


def node(name, op, inputs, outputs, text="", known=None):
    """NodeDef{name, op, input, attr} with the attributes of the tensor
    outputs (known: (sizes, DataType) of a parameter, when the graph does
    not tell them)."""
    attrs = {}
    tensors = [v for v in outputs if _is_tensor(v)]
    if tensors:
        sizes = [_shape(v) for v in tensors]
        if known is not None:
            sizes[0] = known[0]
        shapes = b"".join(w.f_bytes(7, shape_proto(s)) for s in sizes)
        attrs["_output_shapes"] = w.f_bytes(1, shapes)          # AttrValue.list.shape
        dt = known[1] if known is not None and known[1] is not None else _dtype(tensors[0])
        if dt is not None:
            attrs["dtype"] = w.f_varint(6, dt)                  # AttrValue.type
    if text:
        attrs["attr"] = w.f_bytes(2, text.encode("utf-8"))      # AttrValue.s
    b = w.f_str(1, name) + w.f_str(2, op) + b"".join(w.f_str(3, i) for i in inputs)
    for k in sorted(attrs):
        b += w.f_bytes(5, w.f_str(1, k) + w.f_bytes(2, attrs[k]))
    return b
