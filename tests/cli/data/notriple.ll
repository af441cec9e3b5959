; CLI fixture: no target triple and no data layout, which libmewe warns about when emitting.
define i32 @main() {
  ret i32 0
}
