// A small C++ program for `mewe-cc inventory.cpp -o inventory.wasm`: the standard library
// as ordinary code uses it (std::string, std::vector, std::map, std::sort, iostream, a
// class with virtual functions, a template, a lambda). mewe-cc compiles it with clang in C++
// mode against libc++ for wasm32-wasi, with -fno-exceptions: errors are values here, since
// WebAssembly builds of libc++ have no exceptions. The output is deterministic.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Item {
    std::string name;
    std::string shelf;
    int count;
    int cents; // price of one, in cents: no floating point in the totals
};

class Pricing {
public:
    virtual ~Pricing() = default;
    virtual int price(const Item &item) const = 0;
    virtual std::string name() const = 0;
};

class ListPrice : public Pricing {
public:
    int price(const Item &item) const override { return item.count * item.cents; }
    std::string name() const override { return "list"; }
};

// Every third one free.
class ThreeForTwo : public Pricing {
public:
    int price(const Item &item) const override
    {
        return (item.count - item.count / 3) * item.cents;
    }
    std::string name() const override { return "3-for-2"; }
};

std::string money(int cents)
{
    std::ostringstream out;
    out << cents / 100 << '.' << std::setw(2) << std::setfill('0') << cents % 100;
    return out.str();
}

// Parses "name shelf count cents" lines; a bad line is reported, not thrown.
bool parse(const std::string &line, Item &out, std::string &error)
{
    std::istringstream in(line);
    if (!(in >> out.name >> out.shelf >> out.count >> out.cents)) {
        error = "cannot parse '" + line + "'";
        return false;
    }
    if (out.count < 0 || out.cents < 0) {
        error = "negative number in '" + line + "'";
        return false;
    }
    return true;
}

template <typename T, typename Key>
std::map<std::string, std::vector<T>> group_by(const std::vector<T> &items, Key key)
{
    std::map<std::string, std::vector<T>> groups;
    for (const T &item : items)
        groups[key(item)].push_back(item);
    return groups;
}

} // namespace

int main()
{
    const char *const lines[] = {
        "apple fruit 12 45",  "pear fruit 7 60",    "kale greens 3 199",
        "spinach greens 10 129", "fig fruit 9 80",  "leek greens x 99",
        "plum fruit 5 -3",    "chard greens 6 149", "banana fruit 30 25",
    };
    std::vector<Item> items;
    for (const char *line : lines) {
        Item item;
        std::string error;
        if (parse(line, item, error))
            items.push_back(item);
        else
            std::cout << "skipped: " << error << "\n";
    }

    std::sort(items.begin(), items.end(), [](const Item &a, const Item &b) {
        return a.count * a.cents > b.count * b.cents ||
               (a.count * a.cents == b.count * b.cents && a.name < b.name);
    });
    std::cout << "by value:";
    for (const Item &item : items)
        std::cout << " " << item.name;
    std::cout << "\n";

    std::vector<std::unique_ptr<Pricing>> pricings;
    pricings.push_back(std::make_unique<ListPrice>());
    pricings.push_back(std::make_unique<ThreeForTwo>());
    auto shelves = group_by(items, [](const Item &item) { return item.shelf; });
    for (const auto &[shelf, group] : shelves) {
        std::cout << shelf << " (" << group.size() << " items):";
        for (const auto &pricing : pricings) {
            int total = 0;
            for (const Item &item : group)
                total += pricing->price(item);
            std::cout << " " << pricing->name() << " " << money(total);
        }
        std::cout << "\n";
    }

    std::map<char, int> initials;
    for (const Item &item : items)
        initials[item.name[0]] += item.count;
    std::string summary;
    for (const auto &[letter, count] : initials)
        summary += std::string(1, letter) + "=" + std::to_string(count) + " ";
    std::cout << "counts by initial: " << summary << "\n";
    return 0;
}
