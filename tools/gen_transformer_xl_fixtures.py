"""Golden fixtures for the Transformer-XL parity tests (models/tests/transformer_xl.rs).

A port of kimiyoung/transformer-xl `pytorch/mem_transformer.py` (MemTransformerLM with
attn_type 0: RelPartialLearnableMultiHeadAttn, RelPartialLearnableDecoderLayer, PositionwiseFF,
PositionalEmbedding, AdaptiveEmbedding) and `pytorch/utils/proj_adaptive_softmax.py`
(ProjectedAdaptiveLogSoftmax), followed line by line. Changes torch 2.x needs, each marked
"torch 2.x" below: boolean attention masks (`.bool()` instead of `.byte()`), `torch.outer`
instead of the removed-in-spirit `torch.ger`, `nonzero().squeeze(1)` (a single selected token
would otherwise give a 0-d index). The adaptive softmax is run with `keep_order=True` so the
per-token NLL is in token order (the reference's default writes the same values grouped by
cluster). The initialisation is train.py's `weights_init` (`--init normal`) with larger standard
deviations than train.py's defaults, so every term (r_r_bias, rel_shift, ...) moves the numbers
well above the tests' tolerances. Weight normalisation is `torch.nn.utils.weight_norm(dim=0)` on
every Linear of the decoder layers, applied after `weights_init`.

Per case it writes `models/tests/fixtures/transformer_xl/<case>.safetensors`:
  * every parameter under its `model.named_parameters()` name (a tied tensor once, under its
    `word_emb` name),
  * `seg<k>.data`, `seg<k>.target` (int64, [tgt_len, batch]) for three consecutive segments,
  * `seg<k>.nll` ([tgt_len, batch]) and `seg<k>.mems.<i>` ([mlen, batch, d_model]) in eval mode
    with the memory carried from segment to segment,
  * `seg<k>.grad.<name>` for k in {0, 1}: the gradient of the segment's mean NLL,
and `<case>.json` with the configuration, the segment spec and the tensor names.

Run: `python tools/gen_transformer_xl_fixtures.py` (torch 2.15.0, CPU, float32, one thread).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from safetensors_writer import write_safetensors

TORCH_VERSION = "2.15.0"
REPO_ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = REPO_ROOT / "models" / "tests" / "fixtures" / "transformer_xl"
MAX_TOTAL_BYTES = 1_000_000
N_SEGMENTS = 3
GRAD_SEGMENTS = (0, 1)


def check_versions() -> None:
    found = torch.__version__.split("+")[0]
    if found != TORCH_VERSION:
        sys.exit(
            f"gen_transformer_xl_fixtures.py needs torch=={TORCH_VERSION}, found {torch.__version__}; "
            "install tools/requirements-fixtures.txt (see tools/README.md)"
        )


# ---------------------------------------------------------------------------------------------
# pytorch/mem_transformer.py (attn_type 0 only)


class PositionalEmbedding(nn.Module):
    def __init__(self, demb):
        super().__init__()
        self.demb = demb
        inv_freq = 1 / (10000 ** (torch.arange(0.0, demb, 2.0) / demb))
        self.register_buffer("inv_freq", inv_freq)

    def forward(self, pos_seq, bsz=None):
        sinusoid_inp = torch.outer(pos_seq, self.inv_freq)  # torch 2.x: torch.ger is deprecated
        pos_emb = torch.cat([sinusoid_inp.sin(), sinusoid_inp.cos()], dim=-1)
        if bsz is not None:
            return pos_emb[:, None, :].expand(-1, bsz, -1)
        else:
            return pos_emb[:, None, :]


class PositionwiseFF(nn.Module):
    def __init__(self, d_model, d_inner, dropout, pre_lnorm=False):
        super().__init__()
        self.d_model = d_model
        self.d_inner = d_inner
        self.dropout = dropout
        self.CoreNet = nn.Sequential(
            nn.Linear(d_model, d_inner),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(d_inner, d_model),
            nn.Dropout(dropout),
        )
        self.layer_norm = nn.LayerNorm(d_model)
        self.pre_lnorm = pre_lnorm

    def forward(self, inp):
        if self.pre_lnorm:
            core_out = self.CoreNet(self.layer_norm(inp))
            output = core_out + inp
        else:
            core_out = self.CoreNet(inp)
            output = self.layer_norm(inp + core_out)
        return output


class RelMultiHeadAttn(nn.Module):
    def __init__(self, n_head, d_model, d_head, dropout, dropatt=0, tgt_len=None, ext_len=None,
                 mem_len=None, pre_lnorm=False):
        super().__init__()
        self.n_head = n_head
        self.d_model = d_model
        self.d_head = d_head
        self.dropout = dropout
        self.qkv_net = nn.Linear(d_model, 3 * n_head * d_head, bias=False)
        self.drop = nn.Dropout(dropout)
        self.dropatt = nn.Dropout(dropatt)
        self.o_net = nn.Linear(n_head * d_head, d_model, bias=False)
        self.layer_norm = nn.LayerNorm(d_model)
        self.scale = 1 / (d_head ** 0.5)
        self.pre_lnorm = pre_lnorm

    def _rel_shift(self, x, zero_triu=False):
        zero_pad = torch.zeros((x.size(0), 1, *x.size()[2:]), device=x.device, dtype=x.dtype)
        x_padded = torch.cat([zero_pad, x], dim=1)
        x_padded = x_padded.view(x.size(1) + 1, x.size(0), *x.size()[2:])
        x = x_padded[1:].view_as(x)
        if zero_triu:
            ones = torch.ones((x.size(0), x.size(1)))
            x = x * torch.tril(ones, x.size(1) - x.size(0))[:, :, None, None]
        return x


class RelPartialLearnableMultiHeadAttn(RelMultiHeadAttn):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.r_net = nn.Linear(self.d_model, self.n_head * self.d_head, bias=False)

    def forward(self, w, r, r_w_bias, r_r_bias, attn_mask=None, mems=None):
        qlen, rlen, bsz = w.size(0), r.size(0), w.size(1)
        if mems is not None:
            cat = torch.cat([mems, w], 0)
            if self.pre_lnorm:
                w_heads = self.qkv_net(self.layer_norm(cat))
            else:
                w_heads = self.qkv_net(cat)
            r_head_k = self.r_net(r)
            w_head_q, w_head_k, w_head_v = torch.chunk(w_heads, 3, dim=-1)
            w_head_q = w_head_q[-qlen:]
        else:
            if self.pre_lnorm:
                w_heads = self.qkv_net(self.layer_norm(w))
            else:
                w_heads = self.qkv_net(w)
            r_head_k = self.r_net(r)
            w_head_q, w_head_k, w_head_v = torch.chunk(w_heads, 3, dim=-1)
        klen = w_head_k.size(0)
        w_head_q = w_head_q.view(qlen, bsz, self.n_head, self.d_head)
        w_head_k = w_head_k.view(klen, bsz, self.n_head, self.d_head)
        w_head_v = w_head_v.view(klen, bsz, self.n_head, self.d_head)
        r_head_k = r_head_k.view(rlen, self.n_head, self.d_head)

        rw_head_q = w_head_q + r_w_bias
        AC = torch.einsum("ibnd,jbnd->ijbn", (rw_head_q, w_head_k))
        rr_head_q = w_head_q + r_r_bias
        BD = torch.einsum("ibnd,jnd->ijbn", (rr_head_q, r_head_k))
        BD = self._rel_shift(BD)

        attn_score = AC + BD
        attn_score.mul_(self.scale)
        if attn_mask is not None and attn_mask.any().item():
            if attn_mask.dim() == 2:
                attn_score = attn_score.float().masked_fill(
                    attn_mask[None, :, :, None], -float("inf")).type_as(attn_score)
            elif attn_mask.dim() == 3:
                attn_score = attn_score.float().masked_fill(
                    attn_mask[:, :, :, None], -float("inf")).type_as(attn_score)
        attn_prob = F.softmax(attn_score, dim=1)
        attn_prob = self.dropatt(attn_prob)
        attn_vec = torch.einsum("ijbn,jbnd->ibnd", (attn_prob, w_head_v))
        attn_vec = attn_vec.contiguous().view(attn_vec.size(0), attn_vec.size(1), self.n_head * self.d_head)
        attn_out = self.o_net(attn_vec)
        attn_out = self.drop(attn_out)
        if self.pre_lnorm:
            output = w + attn_out
        else:
            output = self.layer_norm(w + attn_out)
        return output


class RelPartialLearnableDecoderLayer(nn.Module):
    def __init__(self, n_head, d_model, d_head, d_inner, dropout, **kwargs):
        super().__init__()
        self.dec_attn = RelPartialLearnableMultiHeadAttn(n_head, d_model, d_head, dropout, **kwargs)
        self.pos_ff = PositionwiseFF(d_model, d_inner, dropout, pre_lnorm=kwargs.get("pre_lnorm"))

    def forward(self, dec_inp, r, r_w_bias, r_r_bias, dec_attn_mask=None, mems=None):
        output = self.dec_attn(dec_inp, r, r_w_bias, r_r_bias, attn_mask=dec_attn_mask, mems=mems)
        output = self.pos_ff(output)
        return output


class AdaptiveEmbedding(nn.Module):
    def __init__(self, n_token, d_embed, d_proj, cutoffs, div_val=1, sample_softmax=False):
        super().__init__()
        self.n_token = n_token
        self.d_embed = d_embed
        self.cutoffs = cutoffs + [n_token]
        self.div_val = div_val
        self.d_proj = d_proj
        self.emb_scale = d_proj ** 0.5
        self.cutoff_ends = [0] + self.cutoffs
        self.emb_layers = nn.ModuleList()
        self.emb_projs = nn.ParameterList()
        if div_val == 1:
            self.emb_layers.append(nn.Embedding(n_token, d_embed, sparse=sample_softmax > 0))
            if d_proj != d_embed:
                self.emb_projs.append(nn.Parameter(torch.Tensor(d_proj, d_embed)))
        else:
            for i in range(len(self.cutoffs)):
                l_idx, r_idx = self.cutoff_ends[i], self.cutoff_ends[i + 1]
                d_emb_i = d_embed // (div_val ** i)
                self.emb_layers.append(nn.Embedding(r_idx - l_idx, d_emb_i))
                self.emb_projs.append(nn.Parameter(torch.Tensor(d_proj, d_emb_i)))

    def forward(self, inp):
        if self.div_val == 1:
            embed = self.emb_layers[0](inp)
            if self.d_proj != self.d_embed:
                embed = F.linear(embed, self.emb_projs[0])
        else:
            param = next(self.parameters())
            inp_flat = inp.view(-1)
            emb_flat = torch.zeros([inp_flat.size(0), self.d_proj], dtype=param.dtype, device=param.device)
            for i in range(len(self.cutoffs)):
                l_idx, r_idx = self.cutoff_ends[i], self.cutoff_ends[i + 1]
                mask_i = (inp_flat >= l_idx) & (inp_flat < r_idx)
                indices_i = mask_i.nonzero().squeeze(1)  # torch 2.x: keep a 1-d index
                if indices_i.numel() == 0:
                    continue
                inp_i = inp_flat.index_select(0, indices_i) - l_idx
                emb_i = self.emb_layers[i](inp_i)
                emb_i = F.linear(emb_i, self.emb_projs[i])
                emb_flat.index_copy_(0, indices_i, emb_i)
            embed = emb_flat.view(*inp.size(), self.d_proj)
        embed.mul_(self.emb_scale)
        return embed


# ---------------------------------------------------------------------------------------------
# pytorch/utils/proj_adaptive_softmax.py


class ProjectedAdaptiveLogSoftmax(nn.Module):
    def __init__(self, n_token, d_embed, d_proj, cutoffs, div_val=1, keep_order=False):
        super().__init__()
        self.n_token = n_token
        self.d_embed = d_embed
        self.d_proj = d_proj
        self.cutoffs = cutoffs + [n_token]
        self.cutoff_ends = [0] + self.cutoffs
        self.div_val = div_val
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        if self.n_clusters > 0:
            self.cluster_weight = nn.Parameter(torch.zeros(self.n_clusters, self.d_embed))
            self.cluster_bias = nn.Parameter(torch.zeros(self.n_clusters))
        self.out_layers = nn.ModuleList()
        self.out_projs = nn.ParameterList()
        if div_val == 1:
            for i in range(len(self.cutoffs)):
                if d_proj != d_embed:
                    self.out_projs.append(nn.Parameter(torch.Tensor(d_proj, d_embed)))
                else:
                    self.out_projs.append(None)
            self.out_layers.append(nn.Linear(d_embed, n_token))
        else:
            for i in range(len(self.cutoffs)):
                l_idx, r_idx = self.cutoff_ends[i], self.cutoff_ends[i + 1]
                d_emb_i = d_embed // (div_val ** i)
                self.out_projs.append(nn.Parameter(torch.Tensor(d_proj, d_emb_i)))
                self.out_layers.append(nn.Linear(d_emb_i, r_idx - l_idx))
        self.keep_order = keep_order

    def _compute_logit(self, hidden, weight, bias, proj):
        if proj is None:
            logit = F.linear(hidden, weight, bias=bias)
        else:
            proj_hid = F.linear(hidden, proj.t().contiguous())
            logit = F.linear(proj_hid, weight, bias=bias)
        return logit

    def forward(self, hidden, target, keep_order=False):
        if hidden.size(0) != target.size(0):
            raise RuntimeError("Input and target should have the same size in the batch dimension.")
        if self.n_clusters == 0:
            logit = self._compute_logit(hidden, self.out_layers[0].weight, self.out_layers[0].bias, self.out_projs[0])
            nll = -F.log_softmax(logit, dim=-1).gather(1, target.unsqueeze(1)).squeeze(1)
        else:
            weights, biases = [], []
            for i in range(len(self.cutoffs)):
                if self.div_val == 1:
                    l_idx, r_idx = self.cutoff_ends[i], self.cutoff_ends[i + 1]
                    weight_i = self.out_layers[0].weight[l_idx:r_idx]
                    bias_i = self.out_layers[0].bias[l_idx:r_idx]
                else:
                    weight_i = self.out_layers[i].weight
                    bias_i = self.out_layers[i].bias
                if i == 0:
                    weight_i = torch.cat([weight_i, self.cluster_weight], dim=0)
                    bias_i = torch.cat([bias_i, self.cluster_bias], dim=0)
                weights.append(weight_i)
                biases.append(bias_i)
            head_weight, head_bias, head_proj = weights[0], biases[0], self.out_projs[0]
            head_logit = self._compute_logit(hidden, head_weight, head_bias, head_proj)
            head_logprob = F.log_softmax(head_logit, dim=1)
            nll = torch.zeros_like(target, dtype=hidden.dtype, device=hidden.device)
            offset = 0
            cutoff_values = [0] + self.cutoffs
            for i in range(len(cutoff_values) - 1):
                l_idx, r_idx = cutoff_values[i], cutoff_values[i + 1]
                mask_i = (target >= l_idx) & (target < r_idx)
                indices_i = mask_i.nonzero().squeeze(1)  # torch 2.x: keep a 1-d index
                if indices_i.numel() == 0:
                    continue
                target_i = target.index_select(0, indices_i) - l_idx
                head_logprob_i = head_logprob.index_select(0, indices_i)
                if i == 0:
                    logprob_i = head_logprob_i.gather(1, target_i[:, None]).squeeze(1)
                else:
                    weight_i, bias_i, proj_i = weights[i], biases[i], self.out_projs[i]
                    hidden_i = hidden.index_select(0, indices_i)
                    tail_logit_i = self._compute_logit(hidden_i, weight_i, bias_i, proj_i)
                    tail_logprob_i = F.log_softmax(tail_logit_i, dim=1)
                    logprob_i = head_logprob_i[:, -i] + tail_logprob_i.gather(1, target_i[:, None]).squeeze(1)
                if (hasattr(self, "keep_order") and self.keep_order) or keep_order:
                    nll.index_copy_(0, indices_i, -logprob_i)
                else:
                    nll[offset:offset + logprob_i.size(0)].copy_(-logprob_i)
                offset += logprob_i.size(0)
        return nll


# ---------------------------------------------------------------------------------------------
# MemTransformerLM (attn_type 0, adaptive softmax; the sampled softmax is not ported)


class MemTransformerLM(nn.Module):
    def __init__(self, n_token, n_layer, n_head, d_model, d_head, d_inner, dropout, dropatt,
                 tie_weight=True, d_embed=None, div_val=1, tie_projs=[False], pre_lnorm=False,
                 tgt_len=None, ext_len=None, mem_len=None, cutoffs=[], same_length=False,
                 clamp_len=-1):
        super().__init__()
        self.n_token = n_token
        d_embed = d_model if d_embed is None else d_embed
        self.d_embed = d_embed
        self.d_model = d_model
        self.n_head = n_head
        self.d_head = d_head
        self.word_emb = AdaptiveEmbedding(n_token, d_embed, d_model, cutoffs, div_val=div_val)
        self.drop = nn.Dropout(dropout)
        self.n_layer = n_layer
        self.tgt_len = tgt_len
        self.mem_len = mem_len
        self.ext_len = ext_len
        self.layers = nn.ModuleList()
        for i in range(n_layer):
            self.layers.append(RelPartialLearnableDecoderLayer(
                n_head, d_model, d_head, d_inner, dropout, tgt_len=tgt_len, ext_len=ext_len,
                mem_len=mem_len, dropatt=dropatt, pre_lnorm=pre_lnorm))
        # keep_order=True: per-token NLL in token order (see the module docstring)
        self.crit = ProjectedAdaptiveLogSoftmax(n_token, d_embed, d_model, cutoffs, div_val=div_val,
                                                keep_order=True)
        if tie_weight:
            for i in range(len(self.crit.out_layers)):
                self.crit.out_layers[i].weight = self.word_emb.emb_layers[i].weight
        if tie_projs:
            for i, tie_proj in enumerate(tie_projs):
                if tie_proj and div_val == 1 and d_model != d_embed:
                    self.crit.out_projs[i] = self.word_emb.emb_projs[0]
                elif tie_proj and div_val != 1:
                    self.crit.out_projs[i] = self.word_emb.emb_projs[i]
        self.same_length = same_length
        self.clamp_len = clamp_len
        self.pos_emb = PositionalEmbedding(self.d_model)
        self.r_w_bias = nn.Parameter(torch.Tensor(self.n_head, self.d_head))
        self.r_r_bias = nn.Parameter(torch.Tensor(self.n_head, self.d_head))

    def init_mems(self):
        if self.mem_len > 0:
            mems = []
            param = next(self.parameters())
            for i in range(self.n_layer + 1):
                mems.append(torch.empty(0, dtype=param.dtype, device=param.device))
            return mems
        else:
            return None

    def _update_mems(self, hids, mems, qlen, mlen):
        if mems is None:
            return None
        assert len(hids) == len(mems), "len(hids) != len(mems)"
        with torch.no_grad():
            new_mems = []
            end_idx = mlen + max(0, qlen - 0 - self.ext_len)
            beg_idx = max(0, end_idx - self.mem_len)
            for i in range(len(hids)):
                cat = torch.cat([mems[i], hids[i]], dim=0)
                new_mems.append(cat[beg_idx:end_idx].detach())
        return new_mems

    def _forward(self, dec_inp, mems=None):
        qlen, bsz = dec_inp.size()
        word_emb = self.word_emb(dec_inp)
        mlen = mems[0].size(0) if mems is not None else 0
        klen = mlen + qlen
        if self.same_length:
            all_ones = word_emb.new_ones(qlen, klen)
            mask_len = klen - self.mem_len
            if mask_len > 0:
                mask_shift_len = qlen - mask_len
            else:
                mask_shift_len = qlen
            # torch 2.x: boolean mask (the reference's .byte())
            dec_attn_mask = (torch.triu(all_ones, 1 + mlen) + torch.tril(all_ones, -mask_shift_len)).bool()[:, :, None]
        else:
            dec_attn_mask = torch.triu(word_emb.new_ones(qlen, klen), diagonal=1 + mlen).bool()[:, :, None]
        hids = []
        pos_seq = torch.arange(klen - 1, -1, -1.0, device=word_emb.device, dtype=word_emb.dtype)
        if self.clamp_len > 0:
            pos_seq.clamp_(max=self.clamp_len)
        pos_emb = self.pos_emb(pos_seq)
        core_out = self.drop(word_emb)
        pos_emb = self.drop(pos_emb)
        hids.append(core_out)
        for i, layer in enumerate(self.layers):
            mems_i = None if mems is None else mems[i]
            core_out = layer(core_out, pos_emb, self.r_w_bias, self.r_r_bias, dec_attn_mask=dec_attn_mask, mems=mems_i)
            hids.append(core_out)
        core_out = self.drop(core_out)
        # the reference's argument order (mlen, qlen against the signature's qlen, mlen);
        # identical results for ext_len = 0, which every case here uses
        new_mems = self._update_mems(hids, mems, mlen, qlen)
        return core_out, new_mems

    def forward(self, data, target, *mems):
        if not mems:
            mems = self.init_mems()
        tgt_len = target.size(0)
        hidden, new_mems = self._forward(data, mems=mems)
        pred_hid = hidden[-tgt_len:]
        loss = self.crit(pred_hid.view(-1, pred_hid.size(-1)), target.view(-1))
        loss = loss.view(tgt_len, -1)
        if new_mems is None:
            return [loss]
        else:
            return [loss] + new_mems


# ---------------------------------------------------------------------------------------------
# pytorch/train.py weights_init (--init normal)


def make_weights_init(init_std: float, proj_init_std: float):
    def init_weight(weight):
        nn.init.normal_(weight, 0.0, init_std)

    def init_bias(bias):
        nn.init.constant_(bias, 0.0)

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Linear") != -1:
            if hasattr(m, "weight") and m.weight is not None:
                init_weight(m.weight)
            if hasattr(m, "bias") and m.bias is not None:
                init_bias(m.bias)
        elif classname.find("AdaptiveEmbedding") != -1:
            if hasattr(m, "emb_projs"):
                for i in range(len(m.emb_projs)):
                    if m.emb_projs[i] is not None:
                        nn.init.normal_(m.emb_projs[i], 0.0, proj_init_std)
        elif classname.find("Embedding") != -1:
            if hasattr(m, "weight"):
                init_weight(m.weight)
        elif classname.find("ProjectedAdaptiveLogSoftmax") != -1:
            if hasattr(m, "cluster_weight") and m.cluster_weight is not None:
                init_weight(m.cluster_weight)
            if hasattr(m, "cluster_bias") and m.cluster_bias is not None:
                init_bias(m.cluster_bias)
            if hasattr(m, "out_projs"):
                for i in range(len(m.out_projs)):
                    if m.out_projs[i] is not None:
                        nn.init.normal_(m.out_projs[i], 0.0, proj_init_std)
        elif classname.find("LayerNorm") != -1:
            if hasattr(m, "weight"):
                nn.init.normal_(m.weight, 1.0, init_std)
            if hasattr(m, "bias") and m.bias is not None:
                init_bias(m.bias)
        elif classname.find("TransformerLM") != -1:
            if hasattr(m, "r_w_bias"):
                init_weight(m.r_w_bias)
            if hasattr(m, "r_r_bias"):
                init_weight(m.r_r_bias)

    return weights_init


# ---------------------------------------------------------------------------------------------
# Cases

COMMON = dict(n_layer=2, d_head=8, d_inner=32, tgt_len=5, mem_len=7, ext_len=0, batch=3,
              init_std=0.4, proj_init_std=0.3, dropout=0.0, dropatt=0.0)

CASES = {
    "adaptive_post": dict(COMMON, n_token=60, n_head=3, d_model=16, d_embed=16, cutoffs=[20, 40], div_val=1,
                          tie_weight=True, tie_projs=True, pre_lnorm=False, same_length=False, clamp_len=0,
                          weight_norm=False, seed=1),
    # pre-norm has no final layer norm: smaller weights keep the softmax out of saturation
    "adaptive_div2_pre": dict(COMMON, n_token=60, n_head=3, d_model=24, d_embed=16, cutoffs=[20, 40], div_val=2,
                              tie_weight=True, tie_projs=True, pre_lnorm=True, same_length=True, clamp_len=4,
                              weight_norm=False, seed=2, init_std=0.15, proj_init_std=0.15),
    "weight_norm": dict(COMMON, n_token=60, n_head=3, d_model=16, d_embed=16, cutoffs=[20, 40], div_val=1,
                        tie_weight=True, tie_projs=True, pre_lnorm=False, same_length=False, clamp_len=0,
                        weight_norm=True, seed=3),
    "plain_softmax": dict(COMMON, n_token=50, n_head=2, d_model=16, d_embed=12, cutoffs=[], div_val=1,
                          tie_weight=True, tie_projs=False, pre_lnorm=False, same_length=False, clamp_len=0,
                          weight_norm=False, seed=4),
}

WN_LINEARS = ("dec_attn.qkv_net", "dec_attn.o_net", "dec_attn.r_net", "pos_ff.CoreNet.0", "pos_ff.CoreNet.3")


def build(c: dict) -> MemTransformerLM:
    # train.py: tie_projs = [False] + [True] * len(cutoffs) for wt103 (the flag here)
    tie_projs = [False] + [c["tie_projs"]] * len(c["cutoffs"])
    model = MemTransformerLM(
        c["n_token"], c["n_layer"], c["n_head"], c["d_model"], c["d_head"], c["d_inner"], c["dropout"],
        c["dropatt"], tie_weight=c["tie_weight"], d_embed=c["d_embed"], div_val=c["div_val"],
        tie_projs=tie_projs, pre_lnorm=c["pre_lnorm"], tgt_len=c["tgt_len"], ext_len=c["ext_len"],
        mem_len=c["mem_len"], cutoffs=list(c["cutoffs"]), same_length=c["same_length"],
        clamp_len=c["clamp_len"] if c["clamp_len"] > 0 else -1)
    weights_init = make_weights_init(c["init_std"], c["proj_init_std"])
    model.apply(weights_init)
    model.word_emb.apply(weights_init)
    if c["weight_norm"]:
        for layer in model.layers:
            for path in WN_LINEARS:
                torch.nn.utils.weight_norm(layer.get_submodule(path), name="weight", dim=0)
    model.eval()
    return model


def run_case(name: str, c: dict) -> int:
    torch.manual_seed(c["seed"])
    model = build(c)
    gen = torch.Generator().manual_seed(100 + c["seed"])
    stream = torch.randint(0, c["n_token"], (N_SEGMENTS * c["tgt_len"] + 1, c["batch"]), generator=gen)
    tensors: dict[str, torch.Tensor] = {}
    names = []
    for pname, p in model.named_parameters():
        tensors[pname] = p.detach().clone()
        names.append(pname)
    mems: tuple = tuple()
    for k in range(N_SEGMENTS):
        lo = k * c["tgt_len"]
        data = stream[lo:lo + c["tgt_len"]]
        target = stream[lo + 1:lo + 1 + c["tgt_len"]]
        model.zero_grad(set_to_none=True)
        out = model(data, target, *mems)
        nll, new_mems = out[0], out[1:]
        tensors[f"seg{k}.data"] = data.clone()
        tensors[f"seg{k}.target"] = target.clone()
        tensors[f"seg{k}.nll"] = nll.detach().clone()
        for i, m in enumerate(new_mems):
            tensors[f"seg{k}.mems.{i}"] = m.detach().clone()
        if k in GRAD_SEGMENTS:
            nll.mean().backward()
            for pname, p in model.named_parameters():
                if p.grad is None:
                    sys.exit(f"{name}: parameter {pname} got no gradient in segment {k}")
                tensors[f"seg{k}.grad.{pname}"] = p.grad.detach().clone()
        mems = tuple(new_mems)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{name}.safetensors"
    write_safetensors(path, tensors, {"generator": "tools/gen_transformer_xl_fixtures.py",
                                      "torch": torch.__version__})
    spec = {"mem_len": c["mem_len"], "ext_len": c["ext_len"], "clamp_len": c["clamp_len"],
            "same_length": c["same_length"]}
    meta = {"case": name, "config": c, "spec": spec, "segments": N_SEGMENTS,
            "grad_segments": list(GRAD_SEGMENTS), "params": names,
            "num_params": sum(p.numel() for p in model.parameters()), "torch": torch.__version__}
    (OUT_DIR / f"{name}.json").write_text(json.dumps(meta, indent=1) + "\n")
    size = path.stat().st_size + (OUT_DIR / f"{name}.json").stat().st_size
    print(f"{name}: {len(names)} parameters ({meta['num_params']} scalars), {size} bytes")
    return size


def main() -> None:
    check_versions()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    total = sum(run_case(name, c) for name, c in CASES.items())
    if total > MAX_TOTAL_BYTES:
        sys.exit(f"fixtures take {total} bytes, more than {MAX_TOTAL_BYTES}")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
