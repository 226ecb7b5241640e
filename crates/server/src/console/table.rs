//! Table headers that sort: each sortable column links to the same list sorted by it (a second
//! click reverses the order), the current one carries `aria-sort` and an arrow, and the list's
//! other parameters (filters, search) stay in the address so a sorted view can be shared.

/// One header cell: its label and, when the column sorts, the link that sorts by it.
pub struct Column {
    pub label: &'static str,
    /// Empty for a column that does not sort.
    pub href: String,
    /// `ascending`, `descending` or `none`, for `aria-sort`.
    pub aria: &'static str,
}

/// The header row of a list. `headers` are (sort name, label) in column order, with an empty
/// name for a column that does not sort; `current` is the list's `sort` parameter (`name` or
/// `-name`, empty for the default order); `link` gives the list's address with another `sort`.
pub fn sort_headers(
    headers: &[(&'static str, &'static str)],
    current: &str,
    link: impl Fn(&str) -> String,
) -> Vec<Column> {
    let (current_name, descending) = match current.strip_prefix('-') {
        Some(name) => (name, true),
        None => (current, false),
    };
    headers
        .iter()
        .map(|&(name, label)| {
            if name.is_empty() {
                return Column {
                    label,
                    href: String::new(),
                    aria: "none",
                };
            }
            let is_current = name == current_name;
            let next = if is_current && !descending {
                format!("-{name}")
            } else {
                name.to_string()
            };
            Column {
                label,
                href: link(&next),
                aria: match (is_current, descending) {
                    (false, _) => "none",
                    (true, false) => "ascending",
                    (true, true) => "descending",
                },
            }
        })
        .collect()
}

/// `path?k=v&…` with the non-empty pairs, encoded.
pub fn list_url(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        query.append_pair(k, v);
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_click_on_the_current_column_reverses_it() {
        let cols = sort_headers(&[("email", "Email"), ("", "Notes")], "email", |s| {
            format!("?sort={s}")
        });
        assert_eq!(cols[0].href, "?sort=-email");
        assert_eq!(cols[0].aria, "ascending");
        assert_eq!(cols[1].href, "");
        let cols = sort_headers(&[("email", "Email")], "-email", |s| format!("?sort={s}"));
        assert_eq!(cols[0].href, "?sort=email");
        assert_eq!(cols[0].aria, "descending");
    }

    #[test]
    fn empty_parameters_are_left_out_of_a_list_address() {
        assert_eq!(
            list_url("/x", &[("q", ""), ("sort", "-a b")]),
            "/x?sort=-a+b"
        );
        assert_eq!(list_url("/x", &[("q", "")]), "/x");
    }
}
