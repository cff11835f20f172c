from dangan.search.analyzer import (
    AnyOf,
    Document,
    Phrase,
    Term,
    description_part,
    fold,
    parse_query,
)


def test_folding_makes_traditional_full_width_and_upper_case_one_form():
    assert fold("萬平德 ＡＢＣ１２３") == "万平德 abc123"


def test_chinese_is_cut_into_bigrams_and_characters_other_scripts_into_words():
    doc = Document(record_id=1)
    doc.add_meta("失業保險 No.12")
    assert doc.meta == ["失业", "业保", "保险", "no", "12"]
    assert doc.chars == ["失", "业", "保", "险"]


def test_a_typed_phrase_becomes_its_bigrams_in_order():
    query = parse_query("失业保险金")
    phrase = next(p for p in query.node.parts if isinstance(p, Phrase))
    assert phrase.terms == ("失业", "业保", "保险", "险金")


def test_digits_that_may_be_an_id_tail_also_look_up_the_tail_term():
    query = parse_query("01123X")
    assert isinstance(query.node, AnyOf)
    assert Term("_t01123x") in query.node.parts
    assert query.id_like


def test_typed_text_cannot_become_an_identifier_or_facet_term():
    query = parse_query("_fc1 _x")
    assert Term("_fc1") not in getattr(query.node, "parts", (query.node,))


def test_the_description_part_of_a_query_drops_what_needs_a_single_character():
    # Single characters are indexed with the pages' in one column, never as description.
    query = parse_query("缴费8年")
    assert description_part(query.node) == Term("_x缴费8年")
