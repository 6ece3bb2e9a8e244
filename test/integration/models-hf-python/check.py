# Loads the folders make-exports.ts wrote with Python transformers and compares its logits,
# class probabilities and image-processor tokens with Tessera's. Prints one JSON document.
#   python3 check.py <dir>
#
# transformers' ImageGPT attention divides by torch_float(head_dim ** 0.5), and torch_float
# returns int(x) outside tracing (transformers 4.4x-5.x), so a head_dim that is not a perfect
# square is scaled by floor(sqrt(head_dim)). The check runs as shipped, then with that cast fixed
# (the semantics of the fixture README, which Tessera implements).
import json, os, sys
import numpy as np
import torch
from PIL import Image
import transformers
import transformers.models.imagegpt.modeling_imagegpt as hf_igpt
from transformers import ImageGPTForCausalImageModeling, ImageGPTForImageClassification, ImageGPTImageProcessor

d = sys.argv[1]
exp = json.load(open(os.path.join(d, 'expected.json')))

def maxdiff(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))

def compare():
    res = {}
    e = exp['imagegpt-tiny-lm']
    f = os.path.join(d, 'imagegpt-tiny-lm')
    m = ImageGPTForCausalImageModeling.from_pretrained(f).eval()
    proc = ImageGPTImageProcessor.from_pretrained(f)
    imgs = [Image.open(os.path.join(d, 'imagegpt-tiny-lm-images', n)).convert('RGB') for n in e['images']]
    ids = torch.tensor(e['tokens'])
    # the exported preprocessor_config.json (clusters, size) tokenizes as Tessera does
    res['processor_tokens_equal'] = bool(torch.equal(proc(images=imgs, return_tensors='pt')['input_ids'], ids))
    sos = m.config.vocab_size - 1
    inp = torch.cat([torch.full((ids.shape[0], 1), sos), ids[:, :-1]], dim=1)
    with torch.no_grad():
        lg = m(inp).logits
    res['lm_logits_maxdiff'] = maxdiff(lg.numpy().ravel(), e['logits'])

    e = exp['imagegpt-tiny-cls']
    c = ImageGPTForImageClassification.from_pretrained(os.path.join(d, 'imagegpt-tiny-cls')).eval()
    with torch.no_grad():
        p = torch.softmax(c(torch.tensor(e['tokens'])).logits, -1)
    res['cls_probs_maxdiff'] = maxdiff(p.numpy(), e['classProbs'])
    res['cls_labels'] = [c.config.id2label[i] for i in range(c.config.num_labels)]

    # class-conditioned, both heads: vocab K + 1 + C, lm_head padded with zero rows for the class tokens
    e = exp['conditioned']
    f = os.path.join(d, 'conditioned')
    m = ImageGPTForCausalImageModeling.from_pretrained(f).eval()
    K = 8
    ids = torch.tensor(e['tokens'])
    diffs, pad = [], 0.0
    for s, want in zip(e['starts'], e['logitsByStart']):
        inp = torch.cat([torch.full((ids.shape[0], 1), s), ids[:, :-1]], dim=1)
        with torch.no_grad():
            lg = m(inp).logits
        diffs.append(maxdiff(lg[..., :K].numpy().ravel(), want))
        pad = max(pad, float(lg[..., K:].abs().max()))
    res['cond_logits_maxdiff'] = max(diffs)
    res['cond_pad_logits_maxabs'] = pad
    c = ImageGPTForImageClassification.from_pretrained(f).eval()
    with torch.no_grad():
        p = torch.softmax(c(ids).logits, -1)
    res['cond_cls_probs_maxdiff'] = maxdiff(p.numpy(), e['classProbs'])
    res['cond_vocab_size'] = m.config.vocab_size
    tol = 1e-4
    res['ok'] = bool(res['processor_tokens_equal'] and res['lm_logits_maxdiff'] < tol and res['cls_probs_maxdiff'] < tol
                     and res['cond_logits_maxdiff'] < tol and res['cond_cls_probs_maxdiff'] < tol and pad == 0.0)
    return res

out = {'transformers': transformers.__version__, 'torch': torch.__version__, 'torch_float(8 ** 0.5)': hf_igpt.torch_float(8 ** 0.5)}
out['as_shipped'] = compare()
hf_igpt.torch_float = float
out['sqrt_cast_fixed'] = compare()
print(json.dumps(out, indent=2))
