//! textkit: the library half of the example crate. Ordinary std code (iterators, closures,
//! BTreeMap, recursion, string formatting) with deterministic results; integer widths are
//! explicit because usize is 32 bits on wasm32. Fat LTO puts it, the binary and the parts of
//! std they use into one bitcode module, so mewe diversifies the library's functions too.

use std::collections::BTreeMap;

/// Primes below `limit` by the sieve of Eratosthenes.
pub fn primes(limit: u32) -> Vec<u32> {
    let mut composite = vec![false; limit as usize];
    let mut found = Vec::new();
    for n in 2..limit {
        if !composite[n as usize] {
            found.push(n);
            let mut m = n * n;
            while m < limit {
                composite[m as usize] = true;
                m += n;
            }
        }
    }
    found
}

/// Evaluates a reverse Polish expression such as "3 4 + 2 *".
pub fn rpn(text: &str) -> Result<i64, String> {
    let mut stack: Vec<i64> = Vec::new();
    for token in text.split_whitespace() {
        let value = match token {
            "+" | "-" | "*" => {
                let (b, a) = (stack.pop(), stack.pop());
                let (a, b) = a.zip(b).ok_or_else(|| format!("'{}' needs two operands", token))?;
                match token {
                    "+" => a + b,
                    "-" => a - b,
                    _ => a * b,
                }
            }
            number => number.parse().map_err(|_| format!("bad token '{}'", number))?,
        };
        stack.push(value);
    }
    match stack.as_slice() {
        [v] => Ok(*v),
        _ => Err(format!("{} values left", stack.len())),
    }
}

/// The moves that carry `n` disks from `from` to `to`.
pub fn hanoi(n: u32, from: char, to: char, via: char, moves: &mut Vec<(char, char)>) {
    if n > 0 {
        hanoi(n - 1, from, via, to, moves);
        moves.push((from, to));
        hanoi(n - 1, via, to, from, moves);
    }
}

/// How often each word of `text` occurs, in word order.
pub fn word_counts(text: &str) -> BTreeMap<&str, u32> {
    let mut counts = BTreeMap::new();
    for word in text.split(' ') {
        *counts.entry(word).or_insert(0) += 1;
    }
    counts
}
