//! A small Rust program to diversify: ordinary std code (iterators, closures, BTreeMap,
//! recursion, string formatting), deterministic output. Integer widths are explicit because
//! usize is 32 bits on wasm32.

use std::collections::BTreeMap;

/// Primes below `limit` by the sieve of Eratosthenes.
fn primes(limit: u32) -> Vec<u32> {
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
fn rpn(text: &str) -> Result<i64, String> {
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

fn hanoi(n: u32, from: char, to: char, via: char, moves: &mut Vec<(char, char)>) {
    if n > 0 {
        hanoi(n - 1, from, via, to, moves);
        moves.push((from, to));
        hanoi(n - 1, via, to, from, moves);
    }
}

fn main() {
    let p = primes(100);
    println!("{} primes below 100, the last {:?}", p.len(), &p[p.len() - 3..]);

    let text = "the quick brown fox jumps over the lazy dog the end";
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    for word in text.split(' ') {
        *counts.entry(word).or_insert(0) += 1;
    }
    let common: Vec<String> = counts
        .iter()
        .filter(|(_, &c)| c > 1)
        .map(|(w, c)| format!("{} x{}", w, c))
        .collect();
    println!("{} distinct words; repeated: {}", counts.len(), common.join(", "));

    for expr in &["3 4 + 2 *", "1 2 3 * - 5 +", "7 +", "2 x *"] {
        match rpn(expr) {
            Ok(v) => println!("rpn \"{}\" = {}", expr, v),
            Err(e) => println!("rpn \"{}\": error: {}", expr, e),
        }
    }

    let mut moves = Vec::new();
    hanoi(10, 'A', 'C', 'B', &mut moves);
    let checksum = moves
        .iter()
        .fold(0u32, |h, &(a, b)| h.wrapping_mul(31) ^ (a as u32 * 7 + b as u32));
    println!("hanoi(10): {} moves, first {:?}, checksum {:08x}", moves.len(), moves[0],
             checksum);
}
