// TorchPickle: reads the data.pkl of a torch.save zip as data, never as a program. Python's pickle is a stack machine
// whose GLOBAL and REDUCE opcodes import and call anything; this reader knows a fixed set of opcodes (what protocols 2
// to 5 use for a state dict) and a fixed allow-list of globals, each interpreted by a rule of its own:
//   collections.OrderedDict()                                  an empty dict (its BUILD state, `_metadata`, is dropped)
//   torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])   a tensor view
//   torch._utils._rebuild_parameter(tensor, requires_grad, hooks)                                     the same view
//   torch.{Float,Half,BFloat16,Double,Long,Int}Storage          a dtype, only inside a persistent id
// and the persistent id ('storage', <storage class>, key, location, numel) names the zip entry `data/<key>`. Any other
// opcode, global or call shape is an error naming it, raised when it is read, before anything is built from it.
// The machine is a loop over the bytes with an explicit value stack, mark stack and memo: a hostile pickle can make it
// neither recurse nor hold more than the limits allow (stack + memo items, values placed in containers, mark and
// container depth), whatever its size.
using System.Buffers.Binary;
using System.Text;

namespace AotVit.Runtime.Weights;

internal static class TorchPickle
{
    // Storage, TensorView and GlobalRef are classes, not records: nothing compares or prints them, and a record's
    // generated equality and text of a DType or Global keep the runtime's enum formatting in the NativeAOT binaries.

    /// <summary>A storage named by a persistent id: zip entry <c>data/{Key}</c> holding <c>Numel</c> elements.</summary>
    internal sealed class Storage(string key, DType dtype, long numel)
    {
        public string Key { get; } = key;
        public DType DType { get; } = dtype;
        public long Numel { get; } = numel;
    }

    /// <summary>A tensor: <c>Shape</c> elements of <c>Storage</c>, contiguous, from element <c>Offset</c>.</summary>
    internal sealed class TensorView(Storage storage, long offset, long[] shape, long elementCount)
    {
        public Storage Storage { get; } = storage;
        public long Offset { get; } = offset;
        public long[] Shape { get; } = shape;
        public long ElementCount { get; } = elementCount;
    }

    /// <summary>Parses <paramref name="pickle"/> and returns the state dict's (name, tensor) pairs in file order.</summary>
    /// <exception cref="CheckpointException">Anything but a plain state dict of contiguous tensors.</exception>
    public static List<(string Name, TensorView Tensor)> ReadStateDict(ReadOnlySpan<byte> pickle, string fileName, CheckpointLimits limits) =>
        new Machine(fileName, limits).Run(pickle);

    // ---- the values a state-dict pickle can build ----

    private enum Global { OrderedDict, RebuildTensorV2, RebuildParameter, StorageClass }

    private sealed class GlobalRef(Global kind, string name, DType dtype = default)
    {
        public Global Kind { get; } = kind;
        public string Name { get; } = name;
        public DType DType { get; } = dtype;
    }

    /// <summary>Containers carry the nesting depth they had when last changed: 1 + the deepest element.</summary>
    private abstract class Container
    {
        public int Depth = 1;
    }

    private sealed class PyTuple : Container
    {
        public readonly object?[] Items;

        public PyTuple(object?[] items, int depth)
        {
            Items = items;
            Depth = depth;
        }
    }

    private sealed class PyList : Container
    {
        public readonly List<object?> Items = [];
    }

    private sealed class PyDict(bool ordered) : Container
    {
        public readonly bool Ordered = ordered;
        public readonly List<KeyValuePair<object?, object?>> Items = [];
    }

    /// <summary>One run over one pickle. MARK positions live on their own stack, as in CPython's unpickler.</summary>
    private sealed class Machine(string fileName, CheckpointLimits limits)
    {
        private readonly List<object?> _stack = [];
        private readonly List<int> _marks = [];
        private readonly Dictionary<uint, object?> _memo = [];
        private readonly Dictionary<string, Storage> _storages = new(StringComparer.Ordinal);
        private int _position;   // offset of the opcode being executed, for messages
        private long _placed;    // values ever placed in a tuple, list or dict: bounds what the containers can hold

        public List<(string, TensorView)> Run(ReadOnlySpan<byte> p)
        {
            int maxDepth = Math.Max(1, limits.MaxJsonDepth);
            int at = 0;
            while (true)
            {
                if (at >= p.Length)
                {
                    throw Error($"the pickle ends at byte {p.Length} without its STOP opcode (truncated data.pkl?)");
                }
                _position = at;
                byte op = p[at++];
                switch (op)
                {
                    case 0x80: // PROTO
                        {
                            byte protocol = Take(p, ref at, 1)[0];
                            if (protocol is < 2 or > 5) throw Error($"pickle protocol {protocol} is not one torch.save writes (2 to 5)");
                            break;
                        }
                    case 0x95: // FRAME: a length hint; the opcodes inside are read as usual
                        Take(p, ref at, 8);
                        break;
                    case (byte)'(': // MARK
                        if (_marks.Count >= maxDepth) throw Error($"the pickle nests deeper than {maxDepth} levels (CheckpointLimits.MaxJsonDepth)");
                        _marks.Add(_stack.Count);
                        break;
                    case (byte)'.': // STOP
                        return Finish();
                    case (byte)'q': // BINPUT
                        Put(Take(p, ref at, 1)[0]);
                        break;
                    case (byte)'r': // LONG_BINPUT
                        Put(BinaryPrimitives.ReadUInt32LittleEndian(Take(p, ref at, 4)));
                        break;
                    case 0x94: // MEMOIZE
                        Put((uint)_memo.Count);
                        break;
                    case (byte)'h': // BINGET
                        Get(Take(p, ref at, 1)[0]);
                        break;
                    case (byte)'j': // LONG_BINGET
                        Get(BinaryPrimitives.ReadUInt32LittleEndian(Take(p, ref at, 4)));
                        break;
                    case (byte)')': // EMPTY_TUPLE
                        Push(new PyTuple([], 1));
                        break;
                    case (byte)'t': // TUPLE
                        Push(MakeTuple(PopToMark(), maxDepth));
                        break;
                    case 0x85: // TUPLE1
                    case 0x86: // TUPLE2
                    case 0x87: // TUPLE3
                        {
                            int n = op - 0x84;
                            object?[] items = PopN(n);
                            Push(MakeTuple(items, maxDepth));
                            break;
                        }
                    case (byte)']': // EMPTY_LIST
                        Push(new PyList());
                        break;
                    case (byte)'l': // LIST
                        {
                            var list = new PyList();
                            foreach (object? item in PopToMark()) Append(list, item, maxDepth);
                            Push(list);
                            break;
                        }
                    case (byte)'a': // APPEND
                        {
                            object? item = Pop();
                            Append(Peek<PyList>("APPEND"), item, maxDepth);
                            break;
                        }
                    case (byte)'e': // APPENDS
                        {
                            object?[] items = PopToMark();
                            PyList list = Peek<PyList>("APPENDS");
                            foreach (object? item in items) Append(list, item, maxDepth);
                            break;
                        }
                    case (byte)'}': // EMPTY_DICT
                        Push(new PyDict(ordered: false));
                        break;
                    case (byte)'d': // DICT
                        {
                            object?[] items = PopToMark();
                            var dict = new PyDict(ordered: false);
                            SetItems(dict, items, maxDepth);
                            Push(dict);
                            break;
                        }
                    case (byte)'s': // SETITEM
                        {
                            object?[] pair = PopN(2);
                            SetItems(Peek<PyDict>("SETITEM"), pair, maxDepth);
                            break;
                        }
                    case (byte)'u': // SETITEMS
                        {
                            object?[] items = PopToMark();
                            SetItems(Peek<PyDict>("SETITEMS"), items, maxDepth);
                            break;
                        }
                    case (byte)'J': // BININT
                        Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(p, ref at, 4)));
                        break;
                    case (byte)'K': // BININT1
                        Push((long)Take(p, ref at, 1)[0]);
                        break;
                    case (byte)'M': // BININT2
                        Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(p, ref at, 2)));
                        break;
                    case 0x8a: // LONG1: a little-endian two's-complement integer of n bytes
                        {
                            int n = Take(p, ref at, 1)[0];
                            if (n > 8) throw Error($"a {n}-byte integer (LONG1) does not fit 64 bits");
                            ReadOnlySpan<byte> bytes = Take(p, ref at, (ulong)n);
                            long value = 0;
                            for (int i = n - 1; i >= 0; i--) value = (value << 8) | bytes[i];
                            if (n is > 0 and < 8 && (bytes[n - 1] & 0x80) != 0) value -= 1L << (8 * n);
                            Push(value);
                            break;
                        }
                    case (byte)'G': // BINFLOAT (big-endian)
                        Push(BinaryPrimitives.ReadDoubleBigEndian(Take(p, ref at, 8)));
                        break;
                    case 0x8c: // SHORT_BINUNICODE
                        Push(Utf8(Take(p, ref at, Take(p, ref at, 1)[0])));
                        break;
                    case (byte)'X': // BINUNICODE
                        Push(Utf8(Take(p, ref at, BinaryPrimitives.ReadUInt32LittleEndian(Take(p, ref at, 4)))));
                        break;
                    case 0x8d: // BINUNICODE8
                        Push(Utf8(Take(p, ref at, BinaryPrimitives.ReadUInt64LittleEndian(Take(p, ref at, 8)))));
                        break;
                    case (byte)'N': // NONE
                        Push(null);
                        break;
                    case 0x88: // NEWTRUE
                        Push(true);
                        break;
                    case 0x89: // NEWFALSE
                        Push(false);
                        break;
                    case (byte)'c': // GLOBAL: "module\nname\n"
                        {
                            string module = Line(p, ref at), name = Line(p, ref at);
                            Push(Resolve(module, name));
                            break;
                        }
                    case 0x93: // STACK_GLOBAL
                        {
                            object?[] pair = PopN(2);
                            if (pair[0] is not string module || pair[1] is not string name)
                            {
                                throw Error($"STACK_GLOBAL needs two strings, found {TypeName(pair[0])} and {TypeName(pair[1])}");
                            }
                            Push(Resolve(module, name));
                            break;
                        }
                    case (byte)'R': // REDUCE: callable(*args)
                        {
                            object? args = Pop(), callable = Pop();
                            Push(Call(callable, args, "REDUCE"));
                            break;
                        }
                    case 0x81: // NEWOBJ: cls.__new__(cls, *args)
                        {
                            object? args = Pop(), cls = Pop();
                            Push(Call(cls, args, "NEWOBJ"));
                            break;
                        }
                    case (byte)'b': // BUILD: obj.__setstate__(state)
                        {
                            object? state = Pop();
                            object? target = PeekAny("BUILD");
                            // An OrderedDict's state is its instance __dict__ (a module state dict's `_metadata`,
                            // per-module versions): not tensors, and nothing aot-vit needs.
                            if (target is not PyDict { Ordered: true } || state is not PyDict)
                            {
                                throw Error($"BUILD (set the state of an object) on {TypeName(target)} with {TypeName(state)} is not allowed: not a plain state dict");
                            }
                            break;
                        }
                    case (byte)'Q': // BINPERSID
                        Push(PersistentLoad(Pop()));
                        break;
                    default:
                        throw Error($"pickle opcode {OpcodeName(op)} (0x{op:x2}) at byte {_position} is not allowed: not a plain state dict");
                }
            }
        }

        private List<(string, TensorView)> Finish()
        {
            if (_stack.Count != 1 || _marks.Count != 0)
            {
                throw Error($"the pickle stops with {_stack.Count} values and {_marks.Count} open marks on its stack instead of one state dict");
            }
            if (_stack[0] is not PyDict root)
            {
                throw Error(_stack[0] is TensorView
                    ? "the pickle holds a single tensor, not a state dict (a dict of named tensors)"
                    : $"the pickle holds {TypeName(_stack[0])}, not a state dict (a dict of named tensors)");
            }
            if (root.Items.Count > limits.MaxTensors)
            {
                throw Error($"the state dict has {root.Items.Count} entries, more than the limit of {limits.MaxTensors} (CheckpointLimits.MaxTensors)");
            }
            var tensors = new List<(string, TensorView)>(root.Items.Count);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (key, value) in root.Items)
            {
                if (key is not string name)
                {
                    throw Error($"the state dict has a key that is {TypeName(key)}, not a tensor name");
                }
                if (value is not TensorView tensor)
                {
                    string hint = value is PyDict ? " (a training checkpoint holding a model state dict among other things? save the model's state dict alone)" : "";
                    throw new CheckpointException($"the state dict's value is {TypeName(value)}, not a tensor{hint}", fileName, name);
                }
                if (!seen.Add(name))
                {
                    throw new CheckpointException("the state dict sets this name twice", fileName, name);
                }
                tensors.Add((name, tensor));
            }
            return tensors;
        }

        // ---- the allow-listed globals and calls ----

        private GlobalRef Resolve(string module, string name)
        {
            GlobalRef? known = (module, name) switch
            {
                ("collections", "OrderedDict") => new GlobalRef(Global.OrderedDict, "collections.OrderedDict"),
                ("torch._utils", "_rebuild_tensor_v2") => new GlobalRef(Global.RebuildTensorV2, "torch._utils._rebuild_tensor_v2"),
                ("torch._utils", "_rebuild_parameter") => new GlobalRef(Global.RebuildParameter, "torch._utils._rebuild_parameter"),
                ("torch", "FloatStorage") => new GlobalRef(Global.StorageClass, "torch.FloatStorage", DType.F32),
                ("torch", "HalfStorage") => new GlobalRef(Global.StorageClass, "torch.HalfStorage", DType.F16),
                ("torch", "BFloat16Storage") => new GlobalRef(Global.StorageClass, "torch.BFloat16Storage", DType.BF16),
                ("torch", "DoubleStorage") => new GlobalRef(Global.StorageClass, "torch.DoubleStorage", DType.F64),
                ("torch", "LongStorage") => new GlobalRef(Global.StorageClass, "torch.LongStorage", DType.I64),
                ("torch", "IntStorage") => new GlobalRef(Global.StorageClass, "torch.IntStorage", DType.I32),
                _ => null,
            };
            return known ?? throw Error($"pickle global '{Printable(module)}.{Printable(name)}' is not allowed: not a plain state dict");
        }

        private object Call(object? callable, object? args, string opcode)
        {
            if (callable is not GlobalRef function)
            {
                throw Error($"{opcode} calls {TypeName(callable)}, which is not callable here: not a plain state dict");
            }
            if (args is not PyTuple tuple)
            {
                throw Error($"{opcode} of {function.Name} with {TypeName(args)} as its arguments: not a plain state dict");
            }
            object?[] a = tuple.Items;
            switch (function.Kind)
            {
                case Global.OrderedDict when a.Length == 0:
                    return new PyDict(ordered: true);
                case Global.RebuildTensorV2 when opcode == "REDUCE" && a.Length is 6 or 7:
                    return RebuildTensor(a);
                case Global.RebuildParameter when opcode == "REDUCE" && a.Length == 3 && a[0] is TensorView view && a[1] is bool && IsEmptyDict(a[2]):
                    return view;
                default:
                    throw Error($"{opcode} of {function.Name} with arguments ({Describe(a)}) is not allowed: not a plain state dict");
            }
        }

        /// <summary>_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).</summary>
        private TensorView RebuildTensor(object?[] a)
        {
            if (a[0] is not Storage storage || a[1] is not long offset || a[2] is not PyTuple size || a[3] is not PyTuple stride ||
                a[4] is not bool || !IsEmptyDict(a[5]) || (a.Length == 7 && a[6] is not (null or PyDict)))
            {
                throw Error($"REDUCE of torch._utils._rebuild_tensor_v2 with arguments ({Describe(a)}) is not allowed: " +
                            "expected (storage, offset, size, stride, requires_grad, empty hooks[, metadata])");
            }
            if (offset < 0) throw Error($"a tensor starts at element {offset} of its storage, a negative offset");
            int rank = size.Items.Length;
            if (rank > limits.MaxRank) throw Error($"a tensor has rank {rank}, above the limit of {limits.MaxRank} (CheckpointLimits.MaxRank)");
            if (stride.Items.Length != rank) throw Error($"a tensor has {rank} sizes but {stride.Items.Length} strides");
            var shape = new long[rank];
            long count = 1;
            for (int i = 0; i < rank; i++)
            {
                if (size.Items[i] is not long d || d < 0) throw Error($"a tensor's size ({Describe(size.Items)}) holds {TypeName(size.Items[i])}, not a dimension");
                shape[i] = d;
                try { count = checked(count * d); }
                catch (OverflowException) { throw Error($"a tensor of size ({Describe(size.Items)}) has more elements than a 64-bit count holds"); }
            }
            // Contiguous (row-major) means: each dimension of extent above 1 steps over the product of the later
            // extents. Dimensions of extent 0 or 1 never step, so their strides do not matter (as torch's is_contiguous).
            long expected = 1;
            for (int i = rank - 1; i >= 0; i--)
            {
                if (stride.Items[i] is not long s) throw Error($"a tensor's stride ({Describe(stride.Items)}) holds {TypeName(stride.Items[i])}, not an integer");
                if (shape[i] > 1 && s != expected && count != 0)
                {
                    throw Error($"a tensor of size ({Describe(size.Items)}) has strides ({Describe(stride.Items)}): only contiguous tensors are read " +
                                "(save the state dict with every tensor made contiguous: {k: v.contiguous() for k, v in state_dict.items()})");
                }
                if (count != 0) expected *= shape[i];   // a product of a prefix of the dims: ≤ count, no overflow
            }
            return new TensorView(storage, offset, shape, count);
        }

        private Storage PersistentLoad(object? id)
        {
            if (id is not PyTuple { Items: ["storage", GlobalRef { Kind: Global.StorageClass } type, string key, string, long numel] })
            {
                throw Error($"persistent id ({(id is PyTuple t ? Describe(t.Items) : TypeName(id))}) is not a storage reference ('storage', <torch storage class>, key, location, size)");
            }
            if (numel < 0) throw Error($"storage '{Printable(key)}' declares {numel} elements");
            if (_storages.TryGetValue(key, out Storage? known))
            {
                if (known.DType != type.DType || known.Numel != numel)
                {
                    throw Error($"storage '{Printable(key)}' is declared as {known.Numel} x {known.DType.ToSafeTensorsName()} and as {numel} x {type.DType.ToSafeTensorsName()}");
                }
                return known;
            }
            if (_storages.Count >= limits.MaxTensors)
            {
                throw Error($"the pickle names more than {limits.MaxTensors} storages (CheckpointLimits.MaxTensors)");
            }
            var storage = new Storage(key, type.DType, numel);
            _storages.Add(key, storage);
            return storage;
        }

        private static bool IsEmptyDict(object? value) => value is PyDict { Items.Count: 0 };

        // ---- stack, marks and memo ----

        private void Push(object? value)
        {
            if (_stack.Count + _memo.Count >= limits.MaxPickleItems)
            {
                throw Error($"the pickle holds more than {limits.MaxPickleItems} stack and memo items (CheckpointLimits.MaxPickleItems)");
            }
            _stack.Add(value);
        }

        private object? Pop()
        {
            int floor = _marks.Count > 0 ? _marks[^1] : 0;
            if (_stack.Count <= floor) throw Error($"opcode at byte {_position} pops from an empty stack (damaged pickle)");
            object? value = _stack[^1];
            _stack.RemoveAt(_stack.Count - 1);
            return value;
        }

        private object?[] PopN(int n)
        {
            var items = new object?[n];
            for (int i = n - 1; i >= 0; i--) items[i] = Pop();
            return items;
        }

        private object?[] PopToMark()
        {
            if (_marks.Count == 0) throw Error($"opcode at byte {_position} needs a MARK and there is none (damaged pickle)");
            int mark = _marks[^1];
            _marks.RemoveAt(_marks.Count - 1);
            object?[] items = _stack.GetRange(mark, _stack.Count - mark).ToArray();
            _stack.RemoveRange(mark, _stack.Count - mark);
            return items;
        }

        private object? PeekAny(string opcode)
        {
            int floor = _marks.Count > 0 ? _marks[^1] : 0;
            if (_stack.Count <= floor) throw Error($"{opcode} at byte {_position} has no object to act on (damaged pickle)");
            return _stack[^1];
        }

        private T Peek<T>(string opcode) where T : class
        {
            object? top = PeekAny(opcode);
            return top as T ?? throw Error($"{opcode} at byte {_position} acts on {TypeName(top)}: not a plain state dict");
        }

        private void Put(uint index)
        {
            object? top = PeekAny("a memo store");
            if (!_memo.ContainsKey(index) && _stack.Count + _memo.Count >= limits.MaxPickleItems)
            {
                throw Error($"the pickle holds more than {limits.MaxPickleItems} stack and memo items (CheckpointLimits.MaxPickleItems)");
            }
            _memo[index] = top;
        }

        private void Get(uint index)
        {
            if (!_memo.TryGetValue(index, out object? value)) throw Error($"memo entry {index} is read before it is stored (damaged pickle)");
            Push(value);
        }

        // ---- containers; depth is tracked as they change, so nothing ever walks them ----

        private static int DepthOf(object? value) => value switch
        {
            Container c => c.Depth,
            _ => 0,
        };

        /// <summary>Counts <paramref name="count"/> more values placed in containers. Everything the pickle builds is
        /// held by the stack, the memo or a container, so with the stack and memo limits this bounds the memory a
        /// pickle can make the reader hold, whatever it repeats.</summary>
        private void Place(int count)
        {
            _placed += count;
            if (_placed > limits.MaxPickleItems)
            {
                throw Error($"the pickle puts more than {limits.MaxPickleItems} values into containers (CheckpointLimits.MaxPickleItems)");
            }
        }

        private PyTuple MakeTuple(object?[] items, int maxDepth)
        {
            Place(items.Length);
            int depth = 1;
            foreach (object? item in items) depth = Math.Max(depth, DepthOf(item) + 1);
            CheckDepth(depth, maxDepth);
            return new PyTuple(items, depth);
        }

        private void Append(PyList list, object? item, int maxDepth)
        {
            Place(1);
            list.Depth = Math.Max(list.Depth, DepthOf(item) + 1);
            CheckDepth(list.Depth, maxDepth);
            list.Items.Add(item);
        }

        private void SetItems(PyDict dict, object?[] items, int maxDepth)
        {
            if (items.Length % 2 != 0) throw Error($"a dict update at byte {_position} has a key without a value (damaged pickle)");
            Place(items.Length / 2);
            for (int i = 0; i < items.Length; i += 2)
            {
                if (items[i] is Container) throw Error($"a dict key is {TypeName(items[i])}: not a plain state dict");
                dict.Depth = Math.Max(dict.Depth, DepthOf(items[i + 1]) + 1);
                CheckDepth(dict.Depth, maxDepth);
                dict.Items.Add(new(items[i], items[i + 1]));
            }
        }

        private void CheckDepth(int depth, int maxDepth)
        {
            if (depth > maxDepth) throw Error($"the pickle nests containers deeper than {maxDepth} levels (CheckpointLimits.MaxJsonDepth)");
        }

        // ---- bytes ----

        private ReadOnlySpan<byte> Take(ReadOnlySpan<byte> p, ref int at, ulong count)
        {
            if (count > (ulong)(p.Length - at))
            {
                throw Error($"the opcode at byte {_position} needs {count} bytes and the pickle has {p.Length - at} left (truncated data.pkl?)");
            }
            ReadOnlySpan<byte> bytes = p.Slice(at, (int)count);
            at += (int)count;
            return bytes;
        }

        private string Line(ReadOnlySpan<byte> p, ref int at)
        {
            int end = p[at..].IndexOf((byte)'\n');
            if (end < 0) throw Error($"GLOBAL at byte {_position} has no end of line (truncated data.pkl?)");
            string text = Utf8(p.Slice(at, end));
            at += end + 1;
            return text;
        }

        private string Utf8(ReadOnlySpan<byte> bytes)
        {
            try
            {
                return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw Error($"a string at byte {_position} is not valid UTF-8");
            }
        }

        private CheckpointException Error(string message) => new(message, fileName);

        // ---- descriptions for messages: never recursive, never long ----

        private static string Printable(string text)
        {
            var s = new StringBuilder();
            foreach (char c in text.Length > 80 ? text[..80] : text) s.Append(char.IsControl(c) ? '?' : c);
            return text.Length > 80 ? s.Append("...").ToString() : s.ToString();
        }

        private static string TypeName(object? value) => value switch
        {
            null => "None",
            bool => "a bool",
            long => "an int",
            double => "a float",
            string => "a string",
            PyTuple t => $"a tuple of {t.Items.Length}",
            PyList => "a list",
            PyDict { Ordered: true } => "an OrderedDict",
            PyDict => "a dict",
            GlobalRef g => g.Name,
            Storage => "a storage",
            TensorView => "a tensor",
            _ => "an object",
        };

        private static string Describe(object?[] items)
        {
            var s = new StringBuilder();
            for (int i = 0; i < Math.Min(items.Length, 8); i++)
            {
                if (i > 0) s.Append(", ");
                s.Append(items[i] switch
                {
                    long v => v.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    bool b => b ? "True" : "False",
                    string text => $"'{Printable(text)}'",
                    var other => TypeName(other),
                });
            }
            if (items.Length > 8) s.Append(", ...");
            return s.ToString();
        }

        private static string OpcodeName(byte op) => op switch
        {
            (byte)'c' => "GLOBAL", (byte)'i' => "INST", (byte)'o' => "OBJ", 0x82 => "EXT1", 0x83 => "EXT2", 0x84 => "EXT4",
            (byte)'P' => "PERSID", (byte)'I' => "INT", (byte)'L' => "LONG", 0x8b => "LONG4", (byte)'F' => "FLOAT",
            (byte)'S' => "STRING", (byte)'T' => "BINSTRING", (byte)'U' => "SHORT_BINSTRING", (byte)'V' => "UNICODE",
            (byte)'B' => "BINBYTES", (byte)'C' => "SHORT_BINBYTES", 0x8e => "BINBYTES8", 0x96 => "BYTEARRAY8",
            0x97 => "NEXT_BUFFER", 0x98 => "READONLY_BUFFER", 0x8f => "EMPTY_SET", 0x90 => "ADDITEMS", 0x91 => "FROZENSET",
            0x92 => "NEWOBJ_EX", (byte)'0' => "POP", (byte)'1' => "POP_MARK", (byte)'2' => "DUP", (byte)'p' => "PUT", (byte)'g' => "GET",
            _ => "unknown",
        };
    }
}
