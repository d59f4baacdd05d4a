"""``kit.pages.BoundedPaginator``: counts up to its limit, says when more match."""

from kit.pages import BoundedPaginator


def test_under_the_limit_the_count_is_exact():
    pages = BoundedPaginator(list(range(7)), 3, limit=10)
    assert (pages.count, pages.bounded, pages.count_text, pages.num_pages) == (7, False, "7", 3)


def test_past_the_limit_the_count_stops_there_and_says_so():
    pages = BoundedPaginator(list(range(25_000)), 50, limit=10_000)
    assert (pages.count, pages.bounded, pages.count_text, pages.num_pages) == (10_000, True, "10,000+", 200)
    last = pages.get_page(999)
    assert last.number == 200 and not last.has_next() and list(last)[-1] == 9_999


def test_at_the_limit_exactly_nothing_is_hidden():
    pages = BoundedPaginator(list(range(10)), 3, limit=10)
    assert (pages.count, pages.bounded, pages.count_text) == (10, False, "10")
