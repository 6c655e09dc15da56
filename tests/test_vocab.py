"""fastmask.vocab: the one reader of vocabulary facts (tokenizers.Tokenizer, Hugging Face
tokenizers, tokenizer.json paths), and the command-line users that go through it."""

import pytest

from fastmask.vocab import VocabError, read_vocab

tokenizers = pytest.importorskip("tokenizers")

BERT_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "quick", "brown", "fox",
              "##es", "jump", "##s", ",", "."]
# RoBERTa-style names, on purpose in an unusual order
ROBERTA_VOCAB = ["hello", "world", "<s>", "<pad>", "</s>", "<unk>", "Ġthe", "Ġfox", "<mask>"]


def wordpiece(tokens, specials):
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(tokens)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.add_special_tokens(list(specials))
    return tok


def wordlevel(tokens, specials, unk):
    from tokenizers import Tokenizer, models

    tok = Tokenizer(models.WordLevel({t: i for i, t in enumerate(tokens)}, unk_token=unk))
    tok.add_special_tokens(list(specials))
    return tok


def test_tokenizers_tokenizer():
    tok = wordpiece(BERT_VOCAB, BERT_VOCAB[:5])
    f = read_vocab(tok)
    assert (f.vocab_size, f.mask_token_id, f.pad_token_id, f.cls_token_id, f.sep_token_id) == \
        (len(BERT_VOCAB), 4, 0, 2, 3)
    assert f.special_ids == (0, 1, 2, 3, 4)
    assert f.tokens[9] == "##es" and len(f.tokens) == f.vocab_size
    assert f.padding_id == 0
    assert f.convention == "wordpiece"
    table = f.word_table()
    assert len(table) == f.vocab_size and table[9] == 0 and table[5] >= 1


def test_other_names_and_fallbacks():
    tok = wordlevel(ROBERTA_VOCAB, ["<s>", "<pad>", "</s>", "<unk>", "<mask>"], "<unk>")
    f = read_vocab(tok)
    assert (f.mask_token_id, f.pad_token_id, f.cls_token_id, f.sep_token_id) == (8, 3, 2, 4)
    assert f.special_ids == (2, 3, 4, 5, 8)
    # no pad token: the mask id pads; neither: 0
    no_pad = read_vocab(wordlevel(["a", "b", "[MASK]", "[UNK]"], ["[MASK]", "[UNK]"], "[UNK]"))
    assert no_pad.pad_token_id is None and no_pad.padding_id == 2
    bare = read_vocab(wordlevel(["a", "b", "[UNK]"], ["[UNK]"], "[UNK]"))
    assert bare.mask_token_id is None and bare.padding_id == 0
    with pytest.raises(VocabError, match="has no mask token"):
        bare.require_mask()


def test_mask_token_override():
    tok = wordpiece(BERT_VOCAB + ["<extra>"], BERT_VOCAB[:5] + ["<extra>"])
    f = read_vocab(tok, mask_token="<extra>")
    assert f.mask_token_id == len(BERT_VOCAB) and f.mask_token_id in f.special_ids
    with pytest.raises(VocabError, match="'<nope>' is not in the tokenizer's vocabulary"):
        read_vocab(tok, mask_token="<nope>")


def test_paths(tmp_path):
    tok = wordpiece(BERT_VOCAB, BERT_VOCAB[:5])
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    by_obj = read_vocab(tok)
    for p in (str(path), path, str(tmp_path)):
        f = read_vocab(p)
        assert (f.vocab_size, f.mask_token_id, f.special_ids) == \
            (by_obj.vocab_size, by_obj.mask_token_id, by_obj.special_ids)
        assert f.tokens == by_obj.tokens
    assert read_vocab(str(path)).name == "tokenizer.json"
    with pytest.raises(VocabError, match="does not exist"):
        read_vocab(str(tmp_path / "missing.json"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(VocabError, match="directory without a tokenizer.json"):
        read_vocab(str(empty))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(VocabError, match="cannot load tokenizer file .*bad.json"):
        read_vocab(str(bad))
    with pytest.raises(TypeError, match="tokenizer must be"):
        read_vocab(42)


def test_hugging_face_tokenizers():
    transformers = pytest.importorskip("transformers")
    tok = wordlevel(ROBERTA_VOCAB, ["<s>", "<pad>", "</s>", "<unk>", "<mask>"], "<unk>")
    hf = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, mask_token="<mask>",
                                              pad_token="<pad>", cls_token="<s>",
                                              sep_token="</s>", unk_token="<unk>")
    f = read_vocab(hf)
    assert f.vocab_size == len(hf)
    assert (f.mask_token_id, f.pad_token_id, f.cls_token_id, f.sep_token_id) == \
        (hf.mask_token_id, hf.pad_token_id, hf.cls_token_id, hf.sep_token_id) == (8, 3, 2, 4)
    assert set(f.special_ids) == set(hf.all_special_ids)
    # the tokenizer's own mask token wins over the usual names
    hf2 = transformers.PreTrainedTokenizerFast(tokenizer_object=wordlevel(
        ["[MASK]", "x", "<m>", "[UNK]"], ["[UNK]", "<m>"], "[UNK]"), mask_token="<m>",
        unk_token="[UNK]")
    assert read_vocab(hf2).mask_token_id == 2


def test_show_and_prep_read_the_same_facts(tmp_path):
    from fastmask.cli import load_text_tokenizer
    from fastmask.prep import command

    tok = wordlevel(ROBERTA_VOCAB, ["<s>", "<pad>", "</s>", "<unk>", "<mask>"], "<unk>")
    path = str(tmp_path / "tokenizer.json")
    tok.save(path)
    facts = read_vocab(path)
    shown = load_text_tokenizer(path)
    assert (shown.mask_id, shown.pad_id, shown.vocab_size) == \
        (facts.mask_token_id, facts.padding_id, facts.vocab_size)
    assert set(shown.special_ids) == set(facts.special_ids)

    class Args:
        vocab_size = mask_token_id = pad_token_id = cls_token_id = sep_token_id = None
        special_ids = None

    prepped = command._vocab_facts(Args(), tok)
    assert prepped["mask_token_id"] == facts.mask_token_id
    assert prepped["pad_token_id"] == facts.padding_id
    assert (prepped["cls_token_id"], prepped["sep_token_id"]) == (2, 4)
    assert prepped["special_ids"] == list(facts.special_ids)

