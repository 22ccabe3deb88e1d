// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// One storage slot every caller updates: the worst case for a parallel executor, since each
/// transaction reads what the one before wrote. Slot 0 `count`.
contract Counter {
    uint256 public count;

    event Incremented(address indexed by, uint256 count);

    function increment() external {
        uint256 next = count + 1;
        count = next;
        emit Incremented(msg.sender, next);
    }
}
