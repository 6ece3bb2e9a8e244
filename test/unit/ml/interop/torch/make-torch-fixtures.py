# Writes PyTorch-format zip checkpoints the way torch.save does (protocol-2 pickle with
# persistent storage ids, tensors reduced through torch._utils._rebuild_tensor_v2), without torch.
import io, json, pickle, struct, sys, types, zipfile, collections
import numpy as np

torch = types.ModuleType('torch'); utils = types.ModuleType('torch._utils')
sys.modules['torch'] = torch; sys.modules['torch._utils'] = utils; torch._utils = utils
def _rebuild_tensor_v2(*a): pass
_rebuild_tensor_v2.__module__ = 'torch._utils'; utils._rebuild_tensor_v2 = _rebuild_tensor_v2
def _rebuild_parameter(*a): pass
_rebuild_parameter.__module__ = 'torch._utils'; utils._rebuild_parameter = _rebuild_parameter
for n in ['FloatStorage', 'HalfStorage', 'ByteStorage', 'BoolStorage']:
    c = type(n, (), {}); c.__module__ = 'torch'; setattr(torch, n, c)

class Storage:
    def __init__(self, key, kind, arr): self.key, self.kind, self.arr = key, kind, arr
class Tensor:
    def __init__(self, storage, offset, size, stride, param=False): self.s, self.o, self.size, self.stride, self.param = storage, offset, size, stride, param
    def __reduce_ex__(self, proto):
        t = (_rebuild_tensor_v2, (self.s, self.o, tuple(self.size), tuple(self.stride), False, collections.OrderedDict()))
        return (_rebuild_parameter, (_Wrapped(t), False, collections.OrderedDict())) if self.param else t
class _Wrapped:
    def __init__(self, t): self.t = t
    def __reduce_ex__(self, proto): return self.t

class P(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage): return ('storage', getattr(torch, obj.kind), obj.key, 'cpu', obj.arr.size)
        return None

def save(path, state, storages):
    buf = io.BytesIO(); P(buf, protocol=2).dump(state)
    stem = path.rsplit('/', 1)[-1].rsplit('.', 1)[0]
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as z:
        z.writestr(f'{stem}/data.pkl', buf.getvalue())
        z.writestr(f'{stem}/byteorder', 'little')
        for s in storages: z.writestr(f'{stem}/data/{s.key}', s.arr.tobytes())
        z.writestr(f'{stem}/version', '3\n')

def load_st(path):
    b = open(path, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n]); out = {}
    for k, v in h.items():
        if k == '__metadata__': continue
        s, e = v['data_offsets']; out[k] = np.frombuffer(b[8 + n + s:8 + n + e], dtype='<f4').reshape(v['shape'])
    return out

fx, out = sys.argv[1], sys.argv[2]
w = load_st(fx + '/model.safetensors')
# 1. The tiny-lm weights as torch.save would write model.state_dict(): float32, contiguous, plus
#    the uint8 causal-mask buffers of old checkpoints.
state = collections.OrderedDict(); storages = []
for i, (k, a) in enumerate(w.items()):
    s = Storage(str(len(storages)), 'FloatStorage', np.ascontiguousarray(a)); storages.append(s)
    strides = [int(np.prod(a.shape[j + 1:])) for j in range(a.ndim)]
    state[k] = Tensor(s, 0, list(a.shape), strides)
for l in range(2):
    s = Storage(str(len(storages)), 'ByteStorage', np.tril(np.ones((64, 64), dtype=np.uint8)).reshape(1, 1, 64, 64)); storages.append(s)
    state[f'transformer.h.{l}.attn.bias'] = Tensor(s, 0, [1, 1, 64, 64], [4096, 4096, 64, 1])
save(out + '/lm/pytorch_model.bin', state, storages)
# 2. Edge cases: half precision, a transposed (non-contiguous) view, two tensors sharing one
#    storage at different offsets, and an nn.Parameter wrapper.
a = np.arange(12, dtype=np.float32).reshape(3, 4) / 8
s0 = Storage('0', 'FloatStorage', a.reshape(-1))
h = np.array([1, -2, 0.333251953125, 65504], dtype=np.float16)
s1 = Storage('1', 'HalfStorage', h)
edge = collections.OrderedDict()
edge['transposed'] = Tensor(s0, 0, [4, 3], [1, 4])
edge['tail'] = Tensor(s0, 8, [4], [1])
edge['half'] = Tensor(s1, 0, [2, 2], [2, 1])
edge['param'] = Tensor(s0, 2, [2], [1], param=True)
save(out + '/edge.bin', edge, [s0, s1])

# 3. A pickle that would run a shell command if it were executed (it must be refused).
import os
class Evil:
    def __reduce__(self): return (os.system, ('echo pwned',))
buf = io.BytesIO(); pickle.Pickler(buf, protocol=2).dump(collections.OrderedDict(x=Evil()))
with zipfile.ZipFile(out + '/evil.bin', 'w', zipfile.ZIP_STORED) as z:
    z.writestr('evil/data.pkl', buf.getvalue())
    z.writestr('evil/version', '3\n')
